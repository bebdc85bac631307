"""Password policy, history, change, reset by e-mail, admin resets, forced resets, expiry."""

from __future__ import annotations

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import member
from tests.support.pipeline import Pipeline

NEW = "a-brand-new-passphrase-42"


def _setup(api: Api):  # type: ignore[no-untyped-def]
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    return root, boss, other


def test_policy_defaults_follow_nist_and_update_is_audited(api: Api) -> None:
    _, boss, _ = _setup(api)
    got = api.get("/security/password-policy", token=boss.token)
    assert got.status == 200
    assert got.json["min_length"] == 8
    assert not got.json["require_symbol"]
    assert got.json["max_age_days"] == 0
    body = {**got.json, "min_length": 12, "require_digit": True, "lockout_threshold": 3}
    put = api.call("PUT", "/security/password-policy", json_body=body, token=boss.token)
    assert put.status == 200, put.text
    assert api.get("/security/password-policy", token=boss.token).json["min_length"] == 12
    logs = api.get("/audit-logs", token=boss.token, query={"event_type": "security_settings_changed"}).json
    assert logs["items"][0]["details"]["changed"] == ["lockout_threshold", "min_length", "require_digit"]


def test_policy_permissions_tenants_and_bad_input(api: Api) -> None:
    _, boss, other = _setup(api)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    denied = api.call("PUT", "/security/password-policy", json_body={"min_length": 10}, token=cashier.token)
    assert (denied.status, denied.code) == (403, "SAAS_001")
    assert api.get("/security/password-policy", token=cashier.token).code == "SAAS_001"
    cross = api.get("/security/password-policy", token=other.token, query={"tenant_id": boss.tenant_id})
    assert (cross.status, cross.code) == (404, "SAAS_013")
    before = api.stack.scan()
    bad = api.call("PUT", "/security/password-policy", json_body={"min_length": 4}, token=boss.token)
    assert (bad.status, bad.code) == (422, "API_007")
    assert bad.json["error"]["details"][0]["field"] == "min_length"
    unknown = api.call("PUT", "/security/password-policy", json_body={"min_len": 9}, token=boss.token)
    assert unknown.status == 422
    assert api.stack.scan() == before


def test_weak_and_common_passwords_name_the_rule(api: Api) -> None:
    _, boss, _ = _setup(api)
    before = len(api.stack.scan())
    for password, rule in (("short1", "min_length"), ("password123", "common"), ("Qwerty2024", "common")):
        reply = api.post(
            "/auth/password/change",
            {"current_password": PASSWORD, "new_password": password},
            token=boss.token,
        )
        assert (reply.status, reply.code) == (422, "API_007"), password
        detail = reply.json["error"]["details"][0]
        assert (detail["field"], detail["rule"]) == ("new_password", rule)
    policy = api.get("/security/password-policy", token=boss.token).json
    api.call(
        "PUT", "/security/password-policy", json_body={**policy, "require_symbol": True}, token=boss.token
    )
    reply = api.post(
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": "has-a-symbol here 2"},
        token=boss.token,
    )
    assert reply.status == 200
    reply = api.post(
        "/auth/password/change",
        {"current_password": "has-a-symbol here 2", "new_password": "nosymbolsatall42"},
        token=boss.token,
    )
    assert reply.json["error"]["details"][0]["rule"] == "require_symbol"
    assert len(api.stack.scan()) > before  # only the accepted change wrote


def test_change_password_ends_other_sessions_and_refuses_reuse(api: Api) -> None:
    _, boss, _ = _setup(api)
    second = login(api, boss.email)
    wrong = api.post(
        "/auth/password/change", {"current_password": "nope-nope", "new_password": NEW}, token=boss.token
    )
    assert (wrong.status, wrong.json["error"]["details"][0]["field"]) == (422, "current_password")
    ok = api.post(
        "/auth/password/change", {"current_password": PASSWORD, "new_password": NEW}, token=boss.token
    )
    assert ok.status == 200, ok.text
    assert ok.json["sessions_ended"] == 1
    assert api.get("/sessions", token=second.token).code == "AUTH_004"
    assert api.get("/sessions", token=boss.token).status == 200
    back = api.post(
        "/auth/password/change", {"current_password": NEW, "new_password": PASSWORD}, token=boss.token
    )
    assert (back.status, back.json["error"]["details"][0]["rule"]) == (422, "history")
    assert login(api, boss.email, NEW).user_id == boss.user_id


def test_reset_by_mail_answers_the_same_for_unknown_addresses(api: Api) -> None:
    _, boss, _ = _setup(api)
    mails = len(api.stack.sent_mail())
    known = api.post("/auth/password/forgot", {"email": boss.email})
    before = api.stack.scan()
    unknown = api.post("/auth/password/forgot", {"email": "ghost@nowhere.example.com"})
    assert (known.status, known.json) == (unknown.status, unknown.json) == (202, known.json)
    assert api.stack.scan() == before  # nothing written for an unknown address
    Pipeline(api.stack).run()
    assert len(api.stack.sent_mail()) == mails + 1
    token = mailed_token(api, boss.email)
    weak = api.post("/auth/password/reset", {"token": token, "new_password": "password1"})
    assert (weak.status, weak.json["error"]["details"][0]["rule"]) == (422, "common")
    done = api.post("/auth/password/reset", {"token": token, "new_password": NEW})
    assert done.status == 200, done.text
    assert done.json["sessions_ended"] == 1
    assert api.get("/sessions", token=boss.token).code == "AUTH_004"
    again = api.post("/auth/password/reset", {"token": token, "new_password": NEW + "x"})
    assert (again.status, again.code) == (410, "SAAS_012")
    assert login(api, boss.email, NEW)


def test_admin_temporary_password_must_be_changed_at_login(api: Api) -> None:
    _, boss, other = _setup(api)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    path = f"/users/{cashier.user_id}/password-reset"
    temp = "temporary-pass-7781"
    assert (
        api.post(path, {"mode": "temporary", "temporary_password": temp}, token=cashier.token).code
        == "SAAS_001"
    )
    assert api.post(path, {"mode": "temporary", "temporary_password": temp}, token=other.token).status == 404
    assert api.post("/users/usr_nope/password-reset", {"mode": "email"}, token=boss.token).status == 404
    missing = api.post(path, {"mode": "temporary"}, token=boss.token)
    assert missing.json["error"]["details"][0]["field"] == "temporary_password"
    assert api.post(path, {"mode": "temporary", "temporary_password": temp}, token=boss.token).status == 200
    assert api.get("/sessions", token=cashier.token).code == "AUTH_004"
    refused = api.post("/auth/login", {"email": cashier.email, "password": temp})
    assert (refused.status, refused.code) == (403, "AUTH_007")
    reset_token = refused.json["error"]["details"][0]["reset_token"]
    assert api.post("/auth/password/reset", {"token": reset_token, "new_password": NEW}).status == 200
    assert login(api, cashier.email, NEW)


def test_admin_reset_by_email_sends_a_link(api: Api) -> None:
    _, boss, _ = _setup(api)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert (
        api.post(f"/users/{cashier.user_id}/password-reset", {"mode": "email"}, token=boss.token).status
        == 200
    )
    Pipeline(api.stack).run()
    token = mailed_token(api, cashier.email)
    assert api.post("/auth/password/reset", {"token": token, "new_password": NEW}).status == 200


def test_force_reset_one_user_and_a_whole_tenant_from_a_date(api: Api) -> None:
    clock.freeze()
    _, boss, other = _setup(api)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert (
        api.post("/security/force-password-reset", {"user_id": cashier.user_id}, token=cashier.token).status
        == 403
    )
    assert (
        api.post("/security/force-password-reset", {"user_id": cashier.user_id}, token=other.token).status
        == 404
    )
    one = api.post("/security/force-password-reset", {"user_id": cashier.user_id}, token=boss.token)
    assert one.status == 200
    assert api.post("/auth/login", {"email": cashier.email, "password": PASSWORD}).code == "AUTH_007"
    clock.advance(seconds=2)
    later = clock.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")
    tenant = api.post("/security/force-password-reset", {"effective_at": later}, token=boss.token)
    assert tenant.status == 200, tenant.text
    assert api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).code == "AUTH_007"
    assert api.post("/auth/login", {"email": other.email, "password": PASSWORD}).status == 200
    naive = api.post(
        "/security/force-password-reset", {"effective_at": "2030-01-01T00:00:00"}, token=boss.token
    )
    assert naive.json["error"]["details"][0]["field"] == "effective_at"


def test_max_age_expires_passwords_and_preview_counts_them(api: Api) -> None:
    clock.freeze()
    _, boss, other = _setup(api)
    member(api, boss, "cash@acme.example.com", password="shortpw9", role="cashier")
    policy = api.get("/security/password-policy", token=boss.token).json
    proposed = {**policy, "min_length": 12, "max_age_days": 90}
    preview = api.post("/security/password-policy/preview", proposed, token=boss.token)
    assert preview.status == 200, preview.text
    assert preview.json == {
        "users": 2,
        "must_change": 1,
        "too_short": 1,
        "missing_complexity": 0,
        "expired": 0,
    }
    assert (
        api.post(
            "/security/password-policy/preview",
            proposed,
            token=other.token,
            query={"tenant_id": boss.tenant_id},
        ).status
        == 404
    )
    api.call("PUT", "/security/password-policy", json_body={**policy, "max_age_days": 90}, token=boss.token)
    clock.advance(days=91)
    expired = api.post("/auth/login", {"email": boss.email, "password": PASSWORD})
    assert (expired.status, expired.code) == (403, "AUTH_007")
    token = expired.json["error"]["details"][0]["reset_token"]
    assert api.post("/auth/password/reset", {"token": token, "new_password": NEW}).status == 200
    assert login(api, boss.email, NEW)


def test_resend_activation_and_auth_008_until_activated(api: Api) -> None:
    root = super_admin(api)
    api.post(
        "/tenants",
        {"name": "Slow Co", "admin": {"email": "slow@co.example.com", "name": "S"}},
        token=root.token,
    )
    Pipeline(api.stack).run()
    first = mailed_token(api, "slow@co.example.com")
    same = api.post("/auth/activation/resend", {"email": "ghost@co.example.com"})
    reply = api.post("/auth/activation/resend", {"email": "slow@co.example.com"})
    assert reply.status == same.status == 202
    assert reply.json == same.json
    Pipeline(api.stack).run()
    fresh = mailed_token(api, "slow@co.example.com")
    assert fresh != first
    assert api.post("/auth/activate", {"token": first, "password": PASSWORD}).code == "SAAS_012"
    assert api.post("/auth/activate", {"token": fresh, "password": PASSWORD}).status == 200
