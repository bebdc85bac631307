"""POST with Idempotency-Key: replays answer the first response and write nothing more; keys are
scoped to method, path, query and caller; answers that carry a credential are never stored."""

from __future__ import annotations

from tests.support import secrets_watch
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.identity import authenticator, totp_now

BODY = {"name": "Once Only", "admin": {"email": "once@only.example.com", "name": "O"}}


def _records(api: Api) -> list[dict]:
    return [i for i in api.stack.scan() if i["PK"] == "IDEMPOTENCY#api"]


def test_retry_with_the_same_key_replays_the_first_answer(api: Api) -> None:
    root = super_admin(api)
    first = api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-1"})
    assert first.status == 201
    tenants_before = len(api.stack.entities("tenant"))
    again = api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-1"})
    assert again.status == 201
    assert again.json == first.json
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.stack.entities("tenant")) == tenants_before
    assert len(api.stack.entities("outbox")) == 1


def test_same_key_with_another_body_is_409(api: Api) -> None:
    root = super_admin(api)
    api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-2"})
    other = api.post(
        "/tenants", {**BODY, "name": "Other"}, token=root.token, headers={"Idempotency-Key": "k-2"}
    )
    assert (other.status, other.code) == (409, "API_011")


def test_a_failed_request_can_be_retried_with_its_key(api: Api) -> None:
    root = super_admin(api)
    created = api.post("/tenants", {**BODY, "limits": {"max_users": 1}}, token=root.token)
    tenant = created.json["tenant"]["tenant_id"]
    user = {"email": "second@only.example.com", "name": "Second", "role": "cashier"}
    key = {"Idempotency-Key": "k-3"}
    full = api.post("/users", user, token=root.token, query={"tenant_id": tenant}, headers=key)
    assert (full.status, full.code) == (409, "SAAS_006")  # the domain refused, after the key was taken
    raised = api.patch(f"/tenants/{tenant}", {"limits": {"max_users": 5}}, token=root.token)
    assert raised.status == 200
    retried = api.post("/users", user, token=root.token, query={"tenant_id": tenant}, headers=key)
    assert retried.status == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    replayed = api.post("/users", user, token=root.token, query={"tenant_id": tenant}, headers=key)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json == retried.json


def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    root = super_admin(api)
    api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-4"})
    stranger = api.post("/tenants", BODY, headers={"Idempotency-Key": "k-4"})
    assert (stranger.status, stranger.code) == (401, "AUTH_001")


def test_keys_are_scoped_to_the_query_string(api: Api) -> None:
    root = super_admin(api)
    a = api.post("/tenants", BODY, token=root.token).json["tenant"]["tenant_id"]
    b = api.post(
        "/tenants", {**BODY, "admin": {"email": "b@only.example.com", "name": "B"}}, token=root.token
    ).json["tenant"]["tenant_id"]
    invite = {"email": "guest@only.example.com", "role": "cashier"}
    key = {"Idempotency-Key": "k-5"}
    in_a = api.post("/invitations", invite, token=root.token, query={"tenant_id": a}, headers=key)
    assert in_a.status == 201, in_a.text
    in_b = api.post("/invitations", invite, token=root.token, query={"tenant_id": b}, headers=key)
    assert in_b.status == 201, in_b.text
    assert "idempotent-replayed" not in in_b.headers
    assert in_b.json["tenant_id"] == b
    assert in_b.json["invitation_id"] != in_a.json["invitation_id"]


def test_another_session_of_the_same_user_replays_its_keys(api: Api) -> None:
    root = super_admin(api)
    first = api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-6"})
    other = login(api, root.email)
    again = api.post("/tenants", BODY, token=other.token, headers={"Idempotency-Key": "k-6"})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json == first.json


def test_a_logged_out_session_gets_nothing_back_through_a_replay(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=boss.token)
    totp = authenticator(started.json["otpauth_uri"])
    api.post("/auth/2fa/confirm", {"method": "totp", "code": totp_now(totp)}, token=boss.token)
    key = {"Idempotency-Key": "k-7"}
    codes = api.post("/auth/2fa/backup-codes", token=boss.token, headers=key)
    assert codes.status == 200
    assert api.post("/auth/logout", token=boss.token).status == 200
    replay = api.post("/auth/2fa/backup-codes", token=boss.token, headers=key)
    assert (replay.status, replay.code) == (401, "AUTH_004")
    assert "backup_codes" not in replay.text


def test_a_replayed_answer_that_held_a_credential_is_409_and_acts_once(api: Api) -> None:
    root = super_admin(api)
    key = {"Idempotency-Key": "k-8"}
    first = api.post("/auth/login", {"email": root.email, "password": PASSWORD}, headers=key)
    assert first.status == 200
    assert first.json["token"]
    sessions = len(api.stack.entities("session"))
    again = api.post("/auth/login", {"email": root.email, "password": PASSWORD}, headers=key)
    assert (again.status, again.code) == (409, "API_013")
    assert "token" not in again.json["error"]
    assert len(api.stack.entities("session")) == sessions


def test_the_table_holds_no_credential_from_a_keyed_answer(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    n = iter(range(100))

    def key() -> dict[str, str]:
        return {"Idempotency-Key": f"dump-{next(n)}"}

    session = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}, headers=key())
    token = session.json["token"]
    started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=token, headers=key())
    assert started.json["secret"]
    totp = authenticator(started.json["otpauth_uri"])
    confirmed = api.post(
        "/auth/2fa/confirm", {"method": "totp", "code": totp_now(totp)}, token=token, headers=key()
    )
    assert confirmed.json["backup_codes"]
    fresh = api.post("/auth/2fa/backup-codes", token=token, headers=key())
    assert fresh.json["backup_codes"]
    refreshed = api.post("/auth/refresh", token=token, headers=key())
    assert refreshed.json["token"]
    assert len(_records(api)) == 5  # every keyed call has its record
    dump = repr(api.stack.scan())
    credentials = [
        token,
        refreshed.json["token"],
        started.json["secret"],
        *confirmed.json["backup_codes"],
        *fresh.json["backup_codes"],
    ]
    assert not [c[:4] for c in credentials if c in dump]
    assert not [s[:4] for s in secrets_watch.registered if len(s) >= 16 and s in dump]
