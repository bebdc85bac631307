"""Tenants: super admin across tenants; a tenant admin reads only their own."""

from __future__ import annotations

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api


def test_list_tenants_paginates(api: Api) -> None:
    root = super_admin(api)
    for n in range(3):
        api.post(
            "/tenants",
            {"name": f"T{n}0", "admin": {"email": f"t{n}@t.example.com", "name": "T"}},
            token=root.token,
        )
    first = api.get("/tenants", token=root.token, query={"limit": 2})
    assert first.status == 200
    assert len(first.json["items"]) == 2
    rest = api.get("/tenants", token=root.token, query={"limit": 2, "cursor": first.json["next_cursor"]})
    names = [t["name"] for t in first.json["items"] + rest.json["items"]]
    assert sorted(names) == ["Keel platform", "T00", "T10", "T20"]


def test_update_tenant_changes_only_named_fields_and_audits(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    reply = api.patch(
        f"/tenants/{boss.tenant_id}", {"plan": "enterprise", "limits": {"max_users": 99}}, token=root.token
    )
    assert reply.status == 200
    assert reply.json["plan"] == "enterprise"
    assert reply.json["limits"]["max_users"] == 99
    assert reply.json["name"] == "Acme Pharmacy"
    assert reply.json["user_count"] == 1
    logs = api.get("/audit-logs", token=boss.token, query={"event_type": "tenant.update"}).json["items"]
    assert logs[0]["details"]["changed"] == ["limits", "plan"]


def test_update_unknown_tenant_is_404(api: Api) -> None:
    root = super_admin(api)
    assert api.patch("/tenants/ten_nope", {"name": "Ghost"}, token=root.token).status == 404


def test_super_admin_reads_any_tenant(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    assert api.get(f"/tenants/{boss.tenant_id}", token=root.token).json["tenant_id"] == boss.tenant_id
