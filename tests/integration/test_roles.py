"""Roles and role changes: built-in and custom roles, no escalation, effect on the next request."""

from __future__ import annotations

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def test_list_roles_shows_builtins_and_custom(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    api.post(
        "/roles",
        {"name": "stock_clerk", "label": "Stock clerk", "permissions": ["profile:self"]},
        token=boss.token,
    )
    names = [r["name"] for r in api.get("/roles", token=boss.token).json["items"]]
    assert names == ["manager", "pharmacist", "cashier", "technician", "stock_clerk"]
    platform = [r["name"] for r in api.get("/roles", token=root.token).json["items"]]
    assert platform == ["super_admin", "support_agent", "billing_admin", "on_call_engineer"]
    assert "stock_clerk" not in [r["name"] for r in api.get("/roles", token=other.token).json["items"]]
    across = api.get("/roles", token=root.token, query={"tenant_id": boss.tenant_id}).json["items"]
    assert "stock_clerk" in [r["name"] for r in across]
    assert api.get("/roles", token=cashier.token).code == "SAAS_001"
    assert api.get("/roles", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404


def test_create_role_refuses_escalation_bad_input_and_other_tenants(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    before = api.stack.scan()
    grab = api.post(
        "/roles",
        {"name": "platform", "label": "Platform", "permissions": ["tenants:manage"]},
        token=boss.token,
    )
    assert (grab.status, grab.code) == (403, "SAAS_001")
    unknown = api.post(
        "/roles", {"name": "x_role", "label": "Xx", "permissions": ["rule:world"]}, token=boss.token
    )
    assert (unknown.status, unknown.code) == (422, "API_007")
    assert unknown.json["error"]["details"][0]["field"].startswith("permissions")
    builtin = api.post(
        "/roles", {"name": "cashier", "label": "Cc", "permissions": ["profile:self"]}, token=boss.token
    )
    assert (builtin.status, builtin.code) == (409, "SAAS_011")
    body = {"name": "night_shift", "label": "Night", "permissions": ["profile:self"]}
    assert api.post("/roles", body, token=ph.token).code == "SAAS_001"
    assert api.post("/roles", body, token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert api.stack.scan() == before
    assert api.post("/roles", body, token=root.token, query={"tenant_id": boss.tenant_id}).status == 201
    again = api.post("/roles", body, token=boss.token)
    assert (again.status, again.code) == (409, "SAAS_011")


def test_custom_role_permission_change_takes_effect_on_next_request(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    created = api.post(
        "/roles", {"name": "auditor", "label": "Auditor", "permissions": ["profile:self"]}, token=boss.token
    )
    assert created.status == 201, created.text
    aud = member(api, boss, "aud@acme.example.com", role="auditor")
    assert api.get("/audit-logs", token=aud.token).code == "SAAS_001"
    updated = api.patch("/roles/auditor", {"permissions": ["profile:self", "audit:read"]}, token=boss.token)
    assert updated.status == 200
    assert updated.json["permissions"] == ["audit:read", "profile:self"]
    assert api.get("/audit-logs", token=aud.token).status == 200  # same session, next request
    api.patch("/roles/auditor", {"permissions": ["profile:self"]}, token=boss.token)
    assert api.get("/audit-logs", token=aud.token).code == "SAAS_001"
    logs = api.get("/audit-logs", token=boss.token, query={"event_type": "role_updated"}).json["items"]
    assert logs[0]["details"]["permissions_after"] == ["profile:self"]
    assert api.patch("/roles/manager", {"label": "Boss"}, token=boss.token).code == "SAAS_003"
    assert api.patch("/roles/ghost", {"label": "Boss"}, token=boss.token).status == 404
    assert api.patch("/roles/auditor", {"label": "Boss"}, token=other.token).status == 404
    assert (
        api.patch("/roles/auditor", {"permissions": ["tenants:manage"]}, token=boss.token).code == "SAAS_001"
    )
    assert api.patch("/roles/auditor", {"label": "Boss"}, token=aud.token).code == "SAAS_001"


def test_change_user_role_with_reason_history_and_next_request(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    assert api.get("/users", token=ph.token).status == 200  # pharmacists read the staff list
    reply = api.post(
        f"/users/{ph.user_id}/role", {"role": "cashier", "reason": "moved to the till"}, token=boss.token
    )
    assert reply.status == 200, reply.text
    assert reply.json["role"] == "cashier"
    assert api.get("/users", token=ph.token).code == "SAAS_001"  # same token, next request
    history = api.get(f"/users/{ph.user_id}/role-history", token=boss.token).json["items"]
    assert [(h["from_role"], h["to_role"], h["reason"]) for h in history] == [
        ("pharmacist", "cashier", "moved to the till")
    ]
    assert history[0]["changed_by"] == boss.user_id
    assert api.get(f"/users/{ph.user_id}/role-history", token=ph.token).status == 200  # own history
    logs = api.get("/audit-logs", token=boss.token, query={"event_type": "role_changed"}).json["items"]
    assert logs[0]["details"] == {
        "from_role": "pharmacist",
        "to_role": "cashier",
        "reason": "moved to the till",
    }
    assert [
        u["email"] for u in api.get("/users", token=boss.token, query={"role": "cashier"}).json["items"]
    ] == ["ph@acme.example.com"]


def test_change_user_role_refusals_write_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    before = api.stack.scan()
    path = f"/users/{ph.user_id}/role"
    no_reason = api.post(path, {"role": "cashier"}, token=boss.token)
    assert (no_reason.status, no_reason.code) == (422, "API_007")
    assert no_reason.json["error"]["details"][0]["field"] == "reason"
    unknown = api.post(path, {"role": "wizard", "reason": "because"}, token=boss.token)
    assert (unknown.status, unknown.code, unknown.json["error"]["details"][0]["field"]) == (
        422,
        "API_007",
        "role",
    )
    assert api.post(path, {"role": "super_admin", "reason": "because"}, token=boss.token).status == 422
    assert api.post(path, {"role": "cashier", "reason": "because"}, token=ph.token).code == "SAAS_001"
    assert api.post(path, {"role": "cashier", "reason": "because"}, token=other.token).status == 404
    own = api.post(f"/users/{boss.user_id}/role", {"role": "cashier", "reason": "because"}, token=boss.token)
    assert (own.status, own.code) == (409, "SAAS_003")
    same = api.post(path, {"role": "pharmacist", "reason": "because"}, token=boss.token)
    assert same.code == "SAAS_003"
    assert api.stack.scan() == before
    assert api.get(f"/users/{ph.user_id}/role-history", token=other.token).status == 404
    cross = api.post(
        path,
        {"role": "technician", "reason": "support"},
        token=root.token,
        query={"tenant_id": boss.tenant_id},
    )
    assert cross.status == 200


def test_bulk_change_roles_reports_each_user(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    a = member(api, boss, "a@acme.example.com")
    b = member(api, boss, "b@acme.example.com", role="cashier")
    body = {
        "user_ids": [a.user_id, "usr_missing", b.user_id, other.user_id, boss.user_id],
        "role": "technician",
        "reason": "stock take season",
    }
    reply = api.post("/users/bulk-role-changes", body, token=boss.token)
    assert reply.status == 200, reply.text
    results = {r["user_id"]: r for r in reply.json["results"]}
    assert (reply.json["changed"], reply.json["failed"]) == (2, 3)
    assert results[a.user_id]["ok"]
    assert results[a.user_id]["from_role"] == "pharmacist"
    assert results[b.user_id]["ok"]
    assert results["usr_missing"]["code"] == "SAAS_002"
    assert results[other.user_id]["code"] == "SAAS_002"  # another tenant's user: not found, no leak
    assert results[boss.user_id]["code"] == "SAAS_003"
    roles = {u["user_id"]: u["role"] for u in api.get("/users", token=boss.token).json["items"]}
    assert roles[a.user_id] == roles[b.user_id] == "technician"
    bad = api.post("/users/bulk-role-changes", {**body, "role": "wizard"}, token=boss.token)
    assert (bad.status, bad.code) == (422, "API_007")
    empty = api.post("/users/bulk-role-changes", {**body, "user_ids": []}, token=boss.token)
    assert (empty.status, empty.code) == (422, "API_007")
    assert api.post("/users/bulk-role-changes", body, token=a.token).code == "SAAS_001"
    assert (
        api.post(
            "/users/bulk-role-changes", body, token=other.token, query={"tenant_id": boss.tenant_id}
        ).status
        == 404
    )
    cross = api.post(
        "/users/bulk-role-changes",
        {**body, "user_ids": [a.user_id], "role": "cashier"},
        token=root.token,
        query={"tenant_id": boss.tenant_id},
    )
    assert cross.json["changed"] == 1
