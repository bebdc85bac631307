"""Suspension: ends sessions at once, AUTH_003 at login, unsuspend with a reason, the schedule."""

from __future__ import annotations

from infra.apps import function_module
from infra.lambda_events import LambdaContext
from keel.core import clock
from keel.users.bootstrap import create_super_admin
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def _lift(api: Api) -> dict:
    module = function_module("functions/schedules/lift_suspensions/")
    return dict(module.lambda_handler({"source": "aws.events"}, LambdaContext("lift")))


def test_suspend_ends_sessions_and_login_answers_auth_003(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    reply = api.post(
        f"/users/{ph.user_id}/suspend",
        {"reason": "security_concern", "notes": "odd logins from two countries"},
        token=boss.token,
    )
    assert reply.status == 200, reply.text
    assert reply.json["status"] == "suspended"
    assert reply.json["suspension"]["reason"] == "security_concern"
    assert reply.json["suspension"]["until"] is None
    assert api.get(f"/users/{ph.user_id}", token=ph.token).code == "AUTH_004"  # session gone at once
    denied = api.post("/auth/login", {"email": "ph@acme.example.com", "password": PASSWORD})
    assert (denied.status, denied.code) == (403, "AUTH_003")
    listed = api.get("/users", token=boss.token, query={"status": "suspended"}).json["items"]
    assert [u["user_id"] for u in listed] == [ph.user_id]
    log = api.get("/audit-logs", token=boss.token, query={"event_type": "user_suspended"}).json["items"][0]
    assert log["details"]["sessions_ended"] == 1
    again = api.post(f"/users/{ph.user_id}/suspend", {"reason": "other"}, token=boss.token)
    assert (again.status, again.code) == (409, "SAAS_011")
    back = api.post(f"/users/{ph.user_id}/unsuspend", {"reason": "verified with the user"}, token=boss.token)
    assert back.status == 200
    assert back.json["status"] == "active"
    assert back.json["suspension"] is None
    assert login(api, "ph@acme.example.com").token
    assert api.get("/users", token=boss.token, query={"status": "suspended"}).json["items"] == []
    twice = api.post(f"/users/{ph.user_id}/unsuspend", {"reason": "again"}, token=boss.token)
    assert (twice.status, twice.code) == (409, "SAAS_011")


def test_suspend_refusals_write_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    before = api.stack.scan()
    path = f"/users/{ph.user_id}/suspend"
    bad_reason = api.post(path, {"reason": "grumpy"}, token=boss.token)
    assert (bad_reason.status, bad_reason.code) == (422, "API_007")
    assert bad_reason.json["error"]["details"][0]["field"] == "reason"
    past = api.post(path, {"reason": "other", "until": "2020-01-01T00:00:00Z"}, token=boss.token)
    assert (past.status, past.json["error"]["details"][0]["field"]) == (422, "until")
    myself = api.post(f"/users/{boss.user_id}/suspend", {"reason": "other"}, token=boss.token)
    assert (myself.status, myself.code) == (409, "SAAS_011")
    assert "yourself" in myself.json["error"]["message"]
    assert api.post(path, {"reason": "other"}, token=ph.token).code == "SAAS_001"
    assert api.post(path, {"reason": "other"}, token=other.token).status == 404
    assert (
        api.post(path, {"reason": "other"}, token=other.token, query={"tenant_id": boss.tenant_id}).status
        == 404
    )
    assert api.post(f"/users/{ph.user_id}/unsuspend", {"reason": "ok ok"}, token=other.token).status == 404
    assert api.stack.scan() == before
    cross = api.post(path, {"reason": "billing_issue"}, token=root.token, query={"tenant_id": boss.tenant_id})
    assert cross.status == 200
    assert api.post(f"/users/{ph.user_id}/unsuspend", {"reason": "paid"}, token=ph.token).code == "AUTH_004"


def test_super_admins_cannot_suspend_themselves_or_the_last_one(api: Api) -> None:
    root = super_admin(api)
    create_super_admin("second@example.com", PASSWORD)
    second = login(api, "second@example.com")
    assert api.post(f"/users/{root.user_id}/suspend", {"reason": "other"}, token=second.token).status == 200
    last = api.post(f"/users/{second.user_id}/suspend", {"reason": "other"}, token=second.token)
    assert (last.status, last.code) == (409, "SAAS_011")


def test_temporary_suspension_lifts_itself_audited_as_the_system(api: Api) -> None:
    root = super_admin(api)
    clock.freeze(clock.parse("2026-05-01T09:00:00Z"))
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    reply = api.post(
        f"/users/{ph.user_id}/suspend",
        {"reason": "policy_violation", "until": "2026-05-01T09:30:00Z"},
        token=boss.token,
    )
    assert reply.json["suspension"]["until"] == "2026-05-01T09:30:00.000Z"
    assert _lift(api) == {"lifted": 0}
    clock.advance(minutes=31)
    assert _lift(api) == {"lifted": 1}
    assert _lift(api) == {"lifted": 0}
    assert login(api, "ph@acme.example.com").token
    boss = login(api, boss.email)
    log = api.get("/audit-logs", token=boss.token, query={"event_type": "user_unsuspended"}).json["items"][0]
    assert log["actor_id"] == "system:lift_suspensions"
    assert log["target_id"] == ph.user_id


def test_unsuspended_early_leaves_nothing_for_the_schedule(api: Api) -> None:
    root = super_admin(api)
    clock.freeze(clock.parse("2026-05-01T09:00:00Z"))
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    api.post(
        f"/users/{ph.user_id}/suspend", {"reason": "other", "until": "2026-05-01T09:10:00Z"}, token=boss.token
    )
    api.post(f"/users/{ph.user_id}/unsuspend", {"reason": "mistake"}, token=boss.token)
    assert api.stack.entities("suspension_due") == []
    clock.advance(minutes=20)
    assert _lift(api) == {"lifted": 0}
