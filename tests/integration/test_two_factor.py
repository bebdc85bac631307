"""2FA: TOTP with a real authenticator (pyotp), SMS through a faked Twilio, e-mail codes from SES,
backup codes, tenant enforcement, admin reset."""

from __future__ import annotations

from keel.core import clock
from keel.core.errors import ErrorCode
from tests.support.actors import PASSWORD, Actor, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.identity import authenticator, fake_twilio, mailed_code, totp_now
from tests.support.people import member
from tests.support.pipeline import Pipeline


def _enrol_totp(api: Api, actor: Actor):  # type: ignore[no-untyped-def]
    started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=actor.token)
    assert started.status == 200, started.text
    assert started.json["otpauth_uri"].startswith("otpauth://totp/Keel:")
    totp = authenticator(started.json["otpauth_uri"])
    confirmed = api.post("/auth/2fa/confirm", {"method": "totp", "code": totp_now(totp)}, token=actor.token)
    assert confirmed.status == 200, confirmed.text
    return totp, confirmed.json


def test_totp_enrol_challenge_verify_and_replay_refused(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = login(api, boss.email)
    totp, confirmed = _enrol_totp(api, boss)
    assert confirmed["methods"] == ["totp"]
    assert len(confirmed["backup_codes"]) == 10
    assert confirmed["sessions_ended"] == 1
    assert api.get("/sessions", token=other.token).code == "AUTH_004"  # 2FA change ends other sessions
    assert api.post("/auth/logout", token=boss.token).status == 200
    clock.advance(seconds=30)
    challenge = api.post("/auth/login", {"email": boss.email, "password": PASSWORD})
    assert challenge.status == 200
    assert challenge.json["two_factor_required"] is True
    assert challenge.json["token"] is None
    assert challenge.json["methods"] == ["totp", "backup_code"]
    ch = challenge.json["challenge_token"]
    wrong = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": "000000"})
    assert (wrong.status, wrong.code) == (401, "AUTH_006")
    code = totp_now(totp)
    ok = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": code})
    assert ok.status == 200, ok.text
    assert ok.json["token"]
    assert api.get("/sessions", token=ok.json["token"]).status == 200
    again = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json["challenge_token"]
    replay = api.post("/auth/2fa/verify", {"challenge_token": again, "code": code})
    assert (replay.status, replay.code) == (401, "AUTH_006")
    used = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": code})
    assert used.code == "AUTH_006"  # the challenge itself is single use


def test_backup_codes_work_once_and_regenerate(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    _, confirmed = _enrol_totp(api, boss)
    code = confirmed["backup_codes"][0]
    ch = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json["challenge_token"]
    ok = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": code, "method": "backup_code"})
    assert ok.status == 200, ok.text
    ch = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json["challenge_token"]
    assert api.post(
        "/auth/2fa/verify", {"challenge_token": ch, "code": code, "method": "backup_code"}
    ).code == ("AUTH_006")
    fresh = api.post("/auth/2fa/backup-codes", token=ok.json["token"])
    assert fresh.status == 200
    assert len(set(fresh.json["backup_codes"])) == 10
    old = confirmed["backup_codes"][1]
    assert api.post(
        "/auth/2fa/verify", {"challenge_token": ch, "code": old, "method": "backup_code"}
    ).code == ("AUTH_006")
    ok = api.post(
        "/auth/2fa/verify",
        {"challenge_token": ch, "code": fresh.json["backup_codes"][0], "method": "backup_code"},
    )
    assert ok.status == 200


def test_backup_codes_need_a_second_factor_first(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    assert api.post("/auth/2fa/backup-codes", token=boss.token).code == "SAAS_011"


def test_sms_codes_through_twilio_expire_in_ten_minutes(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    with fake_twilio(api) as twilio:
        bad = api.post("/auth/2fa/enroll", {"method": "sms", "phone": "12345"}, token=boss.token)
        assert (bad.status, bad.json["error"]["details"][0]["field"]) == (422, "phone")
        started = api.post(
            "/auth/2fa/enroll", {"method": "sms", "phone": "+1 415 555 2671"}, token=boss.token
        )
        assert started.status == 200, started.text
        assert twilio.sent[-1]["To"] == "+14155552671"
        assert "2671" not in started.json["code_sent_to"][:-2]
        code = twilio.last_code()
        assert api.post("/auth/2fa/confirm", {"method": "sms", "code": code}, token=boss.token).status == 200
        challenge = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json
        assert challenge["code_sent_to"].endswith("71")
        code = twilio.last_code()
        clock.advance(minutes=10, seconds=1)
        late = api.post("/auth/2fa/verify", {"challenge_token": challenge["challenge_token"], "code": code})
        assert (late.status, late.code) == (401, "AUTH_006")
        challenge = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json
        ok = api.post(
            "/auth/2fa/verify", {"challenge_token": challenge["challenge_token"], "code": twilio.last_code()}
        )
        assert ok.status == 200, ok.text


def test_sms_provider_failure_is_saas_007(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    with fake_twilio(api) as twilio:
        twilio.fail_with = (400, 21614)
        reply = api.post("/auth/2fa/enroll", {"method": "sms", "phone": "+14155552671"}, token=boss.token)
        assert (reply.status, reply.code) == (502, "SAAS_007")


def test_email_codes_come_through_the_pipeline(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    assert api.post("/auth/2fa/enroll", {"method": "email"}, token=boss.token).status == 200
    Pipeline(api.stack).run()
    code = mailed_code(api, boss.email)
    assert api.post("/auth/2fa/confirm", {"method": "email", "code": code}, token=boss.token).status == 200
    challenge = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json
    assert challenge["methods"] == ["email", "backup_code"]
    Pipeline(api.stack).run()
    ok = api.post(
        "/auth/2fa/verify",
        {"challenge_token": challenge["challenge_token"], "code": mailed_code(api, boss.email)},
    )
    assert ok.status == 200, ok.text


def test_wrong_codes_are_rate_limited(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    totp, _ = _enrol_totp(api, boss)
    ch = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json["challenge_token"]
    codes = [api.post("/auth/2fa/verify", {"challenge_token": ch, "code": "123456"}).code for _ in range(5)]
    assert codes == ["AUTH_006"] * 4 + ["SAAS_010"]
    dead = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": totp_now(totp)})
    assert dead.code == "AUTH_006"
    logs = api.get(
        "/audit-logs", token=root.token, query={"event_type": "2fa_failed", "tenant_id": boss.tenant_id}
    )
    assert len(logs.json["items"]) == 5


def test_a_code_that_is_not_ascii_is_a_wrong_code(api: Api) -> None:
    """Found by the fuzzer: a TOTP code with non-ASCII characters was a 500."""
    boss = tenant_admin(api, super_admin(api))
    assert api.post("/auth/2fa/enroll", {"method": "totp"}, token=boss.token).status == 200
    reply = api.post("/auth/2fa/confirm", {"method": "totp", "code": "J\u00b6\u00d4D1234"}, token=boss.token)
    assert (reply.status, reply.code) == (ErrorCode.AUTH_006.status, "AUTH_006")


def test_enrol_bad_input_and_methods_the_tenant_disallows(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    before = api.stack.scan()
    assert api.post("/auth/2fa/enroll", {"method": "pigeon"}, token=boss.token).status == 422
    assert (
        api.post("/auth/2fa/confirm", {"method": "totp", "code": "123456"}, token=boss.token).code
        == "AUTH_006"
    )
    assert api.stack.scan() == before
    settings = api.get("/security/2fa-settings", token=boss.token).json
    api.call("PUT", "/security/2fa-settings", json_body={**settings, "methods": ["totp"]}, token=boss.token)
    refused = api.post("/auth/2fa/enroll", {"method": "email"}, token=boss.token)
    assert (refused.status, refused.json["error"]["details"][0]["field"]) == (422, "method")


def test_settings_required_with_grace_then_auth_005_and_exempt_roles(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    tech = member(api, boss, "tech@acme.example.com", role="technician")
    settings = api.get("/security/2fa-settings", token=boss.token).json
    assert settings["enforcement"] == "optional"
    wanted = {**settings, "enforcement": "required", "grace_period_days": 3, "exempt_roles": ["technician"]}
    assert api.call("PUT", "/security/2fa-settings", json_body=wanted, token=cashier.token).code == "SAAS_001"
    cross = api.call(
        "PUT",
        "/security/2fa-settings",
        json_body=wanted,
        token=other.token,
        query={"tenant_id": boss.tenant_id},
    )
    assert cross.status == 404
    assert (
        api.call(
            "PUT", "/security/2fa-settings", json_body={**wanted, "enforcement": "always"}, token=boss.token
        ).status
        == 422
    )
    saved = api.call("PUT", "/security/2fa-settings", json_body=wanted, token=boss.token)
    assert saved.status == 200, saved.text
    assert saved.json["required_since"]
    soon = api.post("/auth/login", {"email": cashier.email, "password": PASSWORD})
    assert soon.json["two_factor_setup_required"] is True
    clock.advance(days=3, seconds=1)
    refused = api.post("/auth/login", {"email": cashier.email, "password": PASSWORD})
    assert (refused.status, refused.code) == (403, "AUTH_005")
    setup = refused.json["error"]["details"][0]["setup_token"]
    assert api.get("/sessions", token=setup).status == 200  # a profile-only session
    assert api.get("/security/2fa-settings", token=setup).code == "SAAS_001"
    started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=setup).json
    totp = authenticator(started["otpauth_uri"])
    assert (
        api.post("/auth/2fa/confirm", {"method": "totp", "code": totp_now(totp)}, token=setup).status == 200
    )
    assert api.post("/auth/login", {"email": cashier.email, "password": PASSWORD}).json["two_factor_required"]
    assert login(api, tech.email).token  # exempt role


def test_reset_user_2fa(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    _enrol_totp(api, cashier)
    assert api.post(f"/users/{cashier.user_id}/2fa/reset", token=cashier.token).code == "SAAS_001"
    assert api.post(f"/users/{cashier.user_id}/2fa/reset", token=other.token).status == 404
    assert api.post("/users/usr_nobody/2fa/reset", token=boss.token).status == 404
    done = api.post(f"/users/{cashier.user_id}/2fa/reset", token=boss.token)
    assert done.status == 200
    assert done.json["sessions_ended"] == 1
    assert api.get("/sessions", token=cashier.token).code == "AUTH_004"
    assert login(api, cashier.email).token
    assert not [i for i in api.stack.scan() if i["SK"].startswith(f"USER#{cashier.user_id}#MFA")]


def test_the_table_holds_no_readable_totp_seed_or_backup_code(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    totp, confirmed = _enrol_totp(api, boss)
    dump = repr(api.stack.scan())
    assert totp.secret not in dump
    assert not any(code in dump for code in confirmed["backup_codes"])
    seeds = [i["secret"] for i in api.stack.entities("mfa") if "secret" in i]
    assert seeds
    assert all(s.startswith("v1:") for s in seeds)
