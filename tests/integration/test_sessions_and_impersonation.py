"""Sessions (list, terminate one or many, settings), impersonation (start, end, list, audit)."""

from __future__ import annotations

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def test_list_and_terminate_from_another_session(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    phone = login(api, boss.email)
    mine = api.get("/sessions", token=boss.token, query={"user_id": boss.user_id})
    assert mine.status == 200
    rows = {s["session_id"]: s for s in mine.json["items"]}
    assert len(rows) == 2
    assert sum(s["current"] for s in rows.values()) == 1
    assert all(s["ip"] == "203.0.113.10" and s["device"] for s in rows.values())
    target = next(s for s in rows.values() if not s["current"])["session_id"]
    assert api.get("/sessions", token=cashier.token, query={"user_id": boss.user_id}).code == "SAAS_001"
    assert [s["user_id"] for s in api.get("/sessions", token=cashier.token).json["items"]] == [
        cashier.user_id
    ]
    assert api.get("/sessions", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert (
        api.post(f"/sessions/{target}/terminate", {"reason": "lost phone"}, token=cashier.token).code
        == "SAAS_001"
    )
    assert (
        api.post(f"/sessions/{target}/terminate", {"reason": "lost phone"}, token=other.token).status == 404
    )
    assert api.post(f"/sessions/{target}/terminate", {}, token=boss.token).status == 422
    done = api.post(f"/sessions/{target}/terminate", {"reason": "lost phone"}, token=boss.token)
    assert done.status == 200, done.text
    assert api.get("/sessions", token=phone.token).code == "AUTH_004"
    record = api.get("/audit-logs", token=boss.token, query={"event_type": "session_terminated"}).json[
        "items"
    ][0]
    assert record["details"]["reason"] == "lost phone"


def test_terminate_sessions_in_bulk(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    second = login(api, cashier.email)
    assert api.post("/sessions/terminate", {"reason": "x"}, token=boss.token).status == 422
    assert (
        api.post(
            "/sessions/terminate", {"reason": "compromise", "user_id": cashier.user_id}, token=cashier.token
        ).code
        == "SAAS_001"
    )
    done = api.post(
        "/sessions/terminate", {"reason": "compromise", "user_id": cashier.user_id}, token=boss.token
    )
    assert done.status == 200
    assert done.json["terminated"] == 2
    assert api.get("/sessions", token=second.token).code == "AUTH_004"
    assert api.get("/sessions", token=boss.token).status == 200


def test_session_settings_max_concurrent_and_idle(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cfg = api.get("/security/session-settings", token=boss.token).json
    assert cfg == {"max_duration_minutes": 720, "idle_timeout_minutes": 60, "max_concurrent": 5}
    assert (
        api.call(
            "PUT", "/security/session-settings", json_body={**cfg, "max_concurrent": 0}, token=boss.token
        ).status
        == 422
    )
    assert (
        api.call(
            "PUT",
            "/security/session-settings",
            json_body=cfg,
            token=other.token,
            query={"tenant_id": boss.tenant_id},
        ).status
        == 404
    )
    new = {"max_duration_minutes": 120, "idle_timeout_minutes": 10, "max_concurrent": 2}
    assert api.call("PUT", "/security/session-settings", json_body=new, token=boss.token).status == 200
    clock.advance(seconds=1)
    b = login(api, boss.email)
    clock.advance(seconds=1)
    c = login(api, boss.email)
    assert api.get("/sessions", token=boss.token).code == "AUTH_004"  # the oldest ended
    assert api.get("/sessions", token=b.token).status == 200
    clock.advance(minutes=10, seconds=1)
    assert api.get("/sessions", token=c.token).code == "AUTH_004"  # idle limit applies


def test_impersonation_start_audit_end_and_limits(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    peer = member(api, boss, "peer@acme.example.com", role="manager")
    body = {"user_id": cashier.user_id, "reason": "ticket 4711: cannot see sales", "duration_minutes": 30}
    assert api.post("/impersonations", body, token=cashier.token).code == "SAAS_001"
    assert api.post("/impersonations", body, token=other.token).status == 404
    assert api.post("/impersonations", {**body, "user_id": "usr_x"}, token=boss.token).status == 404
    before = api.stack.scan()
    over = api.post("/impersonations", {**body, "duration_minutes": 241}, token=boss.token)
    assert (over.status, over.json["error"]["details"][0]["field"]) == (422, "duration_minutes")
    no_reason = api.post("/impersonations", {"user_id": cashier.user_id}, token=boss.token)
    assert (no_reason.status, no_reason.json["error"]["details"][0]["field"]) == (422, "reason")
    disallowed = api.post("/impersonations", {**body, "user_id": peer.user_id}, token=boss.token)
    assert (disallowed.status, disallowed.code) == (403, "SAAS_005")
    root_target = api.post(
        "/impersonations", {**body, "user_id": root.user_id, "tenant_id": "platform"}, token=boss.token
    )
    assert root_target.status == 404
    assert api.stack.scan() == before
    started = api.post("/impersonations", body, token=boss.token)
    assert started.status == 201, started.text
    imp = started.json
    seen = api.get("/sessions", token=imp["token"])
    assert seen.status == 200
    assert seen.json["items"][0]["user_id"] == cashier.user_id
    assert (
        api.post(
            "/auth/password/change",
            {"current_password": PASSWORD, "new_password": "x" * 20},
            token=imp["token"],
        ).code
        == "SAAS_005"
    )
    records = api.get("/audit-logs", token=boss.token, query={"event_type": "impersonation"}).json["items"]
    request = next(r for r in records if r["action"] == "impersonation.request")
    assert (request["actor_id"], request["acting_as_id"]) == (boss.user_id, cashier.user_id)
    listed = api.get("/impersonations", token=boss.token, query={"status": "active"}).json["items"]
    assert [i["impersonation_id"] for i in listed] == [imp["impersonation_id"]]
    ended = api.post(f"/impersonations/{imp['impersonation_id']}/end", token=imp["token"])
    assert ended.status == 200, ended.text
    assert ended.json["status"] == "ended"
    assert api.get("/sessions", token=imp["token"]).code == "AUTH_004"
    assert api.get("/impersonations", token=boss.token).json["items"][0]["ended_by"] == boss.user_id


def test_impersonation_expires_by_itself_and_super_admin_across_tenants(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    started = api.post(
        "/impersonations",
        {
            "user_id": boss.user_id,
            "reason": "support call",
            "duration_minutes": 15,
            "tenant_id": boss.tenant_id,
        },
        token=root.token,
    )
    assert started.status == 201, started.text
    assert api.get("/tenants/" + boss.tenant_id, token=started.json["token"]).status == 200
    assert api.post(
        "/impersonations", {"user_id": root.user_id, "reason": "nope nope"}, token=started.json["token"]
    ).status in (403,)
    clock.advance(minutes=15, seconds=1)
    assert api.get("/tenants/" + boss.tenant_id, token=started.json["token"]).code == "AUTH_004"
    listed = api.get("/impersonations", token=root.token, query={"tenant_id": boss.tenant_id}).json["items"]
    assert listed[0]["status"] == "expired"
    assert listed[0]["actor_id"] == root.user_id
