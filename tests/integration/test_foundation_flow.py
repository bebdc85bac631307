"""The walking skeleton: bootstrap, login, tenants, activation mail, audit, logout."""

from __future__ import annotations

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.pipeline import Pipeline


def test_super_admin_creates_tenant_and_its_admin_activates_from_the_mail(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    assert boss.tenant_id.startswith("ten_")
    mail = api.stack.sent_mail()[-1]
    assert mail.destinations["ToAddresses"] == ["boss@acme.example.com"]
    assert "activate" in mail.subject.lower()
    own = api.get(f"/tenants/{boss.tenant_id}", token=boss.token)
    assert own.status == 200
    assert own.json["name"] == "Acme Pharmacy"
    assert own.json["user_count"] == 1


def test_login_before_activation_is_auth_008(api: Api) -> None:
    root = super_admin(api)
    api.post(
        "/tenants",
        {"name": "Slow Co", "admin": {"email": "slow@co.example.com", "name": "S"}},
        token=root.token,
    )
    reply = api.post("/auth/login", {"email": "slow@co.example.com", "password": PASSWORD})
    assert reply.status == 401
    assert reply.code == "AUTH_001"  # no password set yet: nothing to verify against


def test_activation_link_works_once(api: Api) -> None:
    root = super_admin(api)
    api.post(
        "/tenants",
        {"name": "Once Co", "admin": {"email": "once@co.example.com", "name": "O"}},
        token=root.token,
    )
    Pipeline(api.stack).run()
    token = mailed_token(api, "once@co.example.com")
    assert api.post("/auth/activate", {"token": token, "password": PASSWORD}).status == 200
    again = api.post("/auth/activate", {"token": token, "password": PASSWORD})
    assert again.status == 410
    assert again.code == "SAAS_012"


def test_wrong_password_is_auth_001_and_audited(api: Api) -> None:
    root = super_admin(api)
    reply = api.post("/auth/login", {"email": root.email, "password": "not-the-password"})
    assert reply.status == 401
    assert reply.code == "AUTH_001"
    logs = api.get("/audit-logs", token=root.token, query={"event_type": "login_failed"})
    assert logs.status == 200
    assert [r["result"] for r in logs.json["items"]] == ["failure"]


def test_unknown_email_answers_like_a_wrong_password(api: Api) -> None:
    super_admin(api)
    reply = api.post("/auth/login", {"email": "nobody@keel.example.com", "password": "whatever-it-is"})
    assert (reply.status, reply.code) == (401, "AUTH_001")


def test_logout_ends_the_session(api: Api) -> None:
    root = super_admin(api)
    assert api.post("/auth/logout", token=root.token).status == 200
    after = api.get("/tenants", token=root.token)
    assert (after.status, after.code) == (401, "AUTH_004")


def test_refresh_rotates_the_token_and_keeps_the_window(api: Api) -> None:
    root = super_admin(api)
    first = api.post("/auth/login", {"email": root.email, "password": PASSWORD}).json
    refreshed = api.post("/auth/refresh", token=first["token"])
    assert refreshed.status == 200
    assert refreshed.json["token"] != first["token"]
    assert refreshed.json["expires_at"] == first["expires_at"]
    assert api.get("/tenants", token=first["token"]).status == 401
    assert api.get("/tenants", token=refreshed.json["token"]).status == 200


def test_idle_session_expires(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    clock.advance(seconds=3599)
    assert api.get("/tenants", token=root.token).status == 200
    clock.advance(seconds=3601)
    reply = api.get("/tenants", token=root.token)
    assert (reply.status, reply.code) == (401, "AUTH_004")


def test_absolute_expiry_holds_even_when_active(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    for _ in range(12):
        clock.advance(minutes=59)
        assert api.get("/tenants", token=root.token).status == 200
    clock.advance(minutes=13)
    assert api.get("/tenants", token=root.token).status == 401


def test_audit_records_creation_with_actor_and_ip(api: Api) -> None:
    root = super_admin(api)
    created = api.post(
        "/tenants",
        {"name": "Audit Co", "admin": {"email": "a@audit.example.com", "name": "A"}},
        token=root.token,
    ).json
    tid = created["tenant"]["tenant_id"]
    logs = api.get("/audit-logs", token=root.token, query={"tenant_id": tid}).json["items"]
    record = next(r for r in logs if r["action"] == "tenant.create")
    assert record["actor_id"] == root.user_id
    assert record["ip"] == "203.0.113.10"
    assert record["target_id"] == tid
    assert record["request_id"]


def test_login_again_after_activation(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    again = login(api, boss.email)
    assert again.user_id == boss.user_id
