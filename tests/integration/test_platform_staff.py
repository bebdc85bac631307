"""Platform staff beside the super admin: support agent, billing admin, on-call engineer.

They exist only in the platform tenant, may name any tenant, and do there what their role lists.
"""

from __future__ import annotations

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def _tenant_body(name: str, email: str) -> dict[str, object]:
    return {"name": name, "admin": {"email": email, "name": "A"}}


def test_support_agent_reads_any_tenant_and_impersonates_but_changes_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    agent = member(api, root, "agent@keel.example.com", role="support_agent")
    assert agent.tenant_id == "platform"
    on_boss = {"tenant_id": boss.tenant_id}
    assert api.get("/tenants", token=agent.token).status == 200
    assert api.get(f"/tenants/{boss.tenant_id}", token=agent.token).status == 200
    assert len(api.get("/users", token=agent.token, query=on_boss).json["items"]) == 2
    assert api.get("/audit-logs", token=agent.token, query=on_boss).status == 200
    before = api.stack.scan()
    for reply in [
        api.post("/tenants", _tenant_body("Nope", "n@n.example.com"), token=agent.token),
        api.patch(f"/tenants/{boss.tenant_id}", {"plan": "free"}, token=agent.token),
        api.post(
            "/invitations",
            {"email": "x@acme.example.com", "role": "cashier"},
            token=agent.token,
            query=on_boss,
        ),
        api.post(f"/users/{cashier.user_id}/suspend", {"reason": "other"}, token=agent.token, query=on_boss),
    ]:
        assert (reply.status, reply.code) == (403, "SAAS_001"), reply.text
    assert api.stack.scan() == before
    started = api.post(
        "/impersonations",
        {
            "tenant_id": boss.tenant_id,
            "user_id": cashier.user_id,
            "reason": "ticket 42",
            "duration_minutes": 15,
        },
        token=agent.token,
    )
    assert started.status == 201, started.text
    over = api.post(
        "/impersonations",
        {"tenant_id": boss.tenant_id, "user_id": boss.user_id, "reason": "ticket 43", "duration_minutes": 15},
        token=agent.token,
    )
    assert (over.status, over.code) == (403, "SAAS_005")  # the manager holds what support lacks


def test_billing_admin_changes_plans_on_call_reads_operations(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    billing = member(api, root, "billing@keel.example.com", role="billing_admin")
    on_call = member(api, root, "oncall@keel.example.com", role="on_call_engineer")
    on_boss = {"tenant_id": boss.tenant_id}
    # payments (issue 12): billing staff change plans through subscriptions (change_subscription_plan,
    # tests/integration/test_payments.py), no longer with tenants:manage
    refused = api.patch(f"/tenants/{boss.tenant_id}", {"plan": "enterprise"}, token=billing.token)
    assert refused.code == "SAAS_001"
    assert api.get("/payments", token=billing.token, query=on_boss).status == 200
    assert api.get("/users", token=billing.token, query=on_boss).code == "SAAS_001"
    assert api.get("/users", token=on_call.token, query=on_boss).status == 200
    assert api.get("/sessions", token=on_call.token, query=on_boss).status == 200
    assert api.patch(f"/tenants/{boss.tenant_id}", {"plan": "x1"}, token=on_call.token).code == "SAAS_001"


def test_platform_roles_and_permissions_stay_on_the_platform(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    on_boss = {"tenant_id": boss.tenant_id}
    before = api.stack.scan()
    grab = {"name": "ops", "label": "Ops", "permissions": ["profile:self", "tenants:manage"]}
    refused = api.post("/roles", grab, token=root.token, query=on_boss)
    assert (refused.status, refused.code) == (422, "API_007")
    assert "Platform permissions cannot be granted by a tenant's role: tenants:manage" in refused.text
    assert api.post("/roles", grab, token=boss.token).code == "SAAS_001"  # and the admin lacks it anyway
    staff = api.post(
        "/invitations",
        {"email": "s@acme.example.com", "role": "support_agent"},
        token=root.token,
        query=on_boss,
    )
    assert (staff.status, staff.code) == (422, "API_007")
    assert api.stack.scan() == before
    clerk = {"name": "clerk", "label": "Clerk", "permissions": ["profile:self"]}
    assert api.post("/roles", clerk, token=root.token, query=on_boss).status == 201
    add = api.patch(
        "/roles/clerk", {"permissions": ["profile:self", "system:read"]}, token=root.token, query=on_boss
    )
    assert (add.status, add.code) == (422, "API_007")
    assert api.post("/roles", grab, token=root.token).status == 201  # a platform custom role may


def test_a_tenant_custom_role_stored_with_a_platform_permission_grants_it_not(api: Api) -> None:
    """A custom role saved before scopes existed (tenant admins then held system:read)."""
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/roles", {"name": "clerk", "label": "Clerk", "permissions": ["profile:self"]}, token=boss.token)
    clerk = member(api, boss, "clerk@acme.example.com", role="clerk")
    table = api.stack.client("dynamodb")
    item = next(i for i in api.stack.entities("role") if i["SK"].endswith("clerk"))
    table.update_item(
        TableName=api.stack.table_name,
        Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        UpdateExpression="SET #p = :p",
        ExpressionAttributeNames={"#p": "permissions"},
        ExpressionAttributeValues={":p": {"L": [{"S": "profile:self"}, {"S": "system:read"}]}},
    )
    me = api.get(f"/users/{clerk.user_id}", token=clerk.token).json
    assert me["permissions"] == ["profile:self"]
