"""Each tenant has the built-in roles of its kind (pharmacy, dental practice, workshop, escrow desk)."""

from __future__ import annotations

from tests.support.actors import PASSWORD, Actor, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import member
from tests.support.pipeline import Pipeline


def _tenant(api: Api, root: Actor, kind: str | None, name: str, email: str) -> Actor:
    body: dict[str, object] = {"name": name, "admin": {"email": email, "name": "Admin"}}
    if kind:
        body["kind"] = kind
    reply = api.post("/tenants", body, token=root.token)
    assert reply.status == 201, reply.text
    assert reply.json["tenant"]["kind"] == (kind or "pharmacy")
    Pipeline(api.stack).run()
    activated = api.post("/auth/activate", {"token": mailed_token(api, email), "password": PASSWORD})
    assert activated.status == 200, activated.text
    user = activated.json["user"]
    return Actor(activated.json["token"], user["user_id"], user["tenant_id"], email)


def test_a_pharmacy_cannot_see_assign_or_invite_dental_roles(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)  # no kind given: a pharmacy, as before kinds existed
    ph = member(api, boss, "ph@acme.example.com")
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["kind"] == "pharmacy"
    names = [r["name"] for r in api.get("/roles", token=boss.token).json["items"]]
    assert names == ["manager", "pharmacist", "cashier", "technician"]
    before = api.stack.scan()
    for method, path, body in [
        ("post", "/invitations", {"email": "dr@acme.example.com", "role": "dentist"}),
        ("post", "/users", {"email": "dr@acme.example.com", "name": "Dr", "role": "dentist"}),
        ("post", f"/users/{ph.user_id}/role", {"role": "dentist", "reason": "new job"}),
        (
            "post",
            "/users/bulk-role-changes",
            {"user_ids": [ph.user_id], "role": "front_desk", "reason": "new job"},
        ),
        ("post", "/invitations", {"email": "sa@acme.example.com", "role": "support_agent"}),
    ]:
        for token, query in [(boss.token, None), (root.token, {"tenant_id": boss.tenant_id})]:
            reply = getattr(api, method)(path, body, token=token, query=query)
            assert (reply.status, reply.code) == (422, "API_007"), (path, body, reply.text)
            assert reply.json["error"]["details"][0]["field"] == "role"
    taken = api.post(
        "/roles", {"name": "dentist", "label": "Dentist", "permissions": ["profile:self"]}, token=boss.token
    )
    assert (taken.status, taken.code) == (409, "SAAS_011")  # built-in names are reserved in every kind
    assert api.stack.scan() == before


def test_a_dental_practice_has_its_roles_and_its_first_admin_is_practice_admin(api: Api) -> None:
    root = super_admin(api)
    admin = _tenant(api, root, "dental_practice", "Peak Dental", "admin@peak.example.com")
    me = api.get(f"/users/{admin.user_id}", token=admin.token).json
    assert me["role"] == "practice_admin"
    assert "users:write" in me["permissions"]
    names = [r["name"] for r in api.get("/roles", token=admin.token).json["items"]]
    assert names == ["practice_admin", "dentist", "lab_technician", "front_desk"]
    dentist = member(api, admin, "dr@peak.example.com", role="dentist")
    assert api.get(f"/users/{dentist.user_id}", token=dentist.token).json["role"] == "dentist"
    refused = api.post("/invitations", {"email": "c@peak.example.com", "role": "cashier"}, token=admin.token)
    assert (refused.status, refused.code) == (422, "API_007")


def test_every_kind_gets_its_admin_role_and_its_own_role_set(api: Api) -> None:
    root = super_admin(api)
    expected = {
        "workshop": ("organiser_admin", ["organiser_admin", "event_manager", "check_in_staff"]),
        "escrow_desk": (
            "support_manager",
            ["support_manager", "technical_lead", "security_lead", "support_specialist"],
        ),
    }
    for kind, (admin_role, role_names) in expected.items():
        reply = api.post(
            "/tenants",
            {"name": f"A {kind}", "kind": kind, "admin": {"email": f"{kind}@k.example.com", "name": "A"}},
            token=root.token,
        )
        assert reply.status == 201, reply.text
        tenant_id, admin_id = reply.json["tenant"]["tenant_id"], reply.json["admin_user_id"]
        user = api.get(f"/users/{admin_id}", token=root.token, query={"tenant_id": tenant_id}).json
        assert user["role"] == admin_role
        listed = api.get("/roles", token=root.token, query={"tenant_id": tenant_id}).json["items"]
        assert [r["name"] for r in listed] == role_names


def test_the_kind_is_chosen_at_creation_and_never_changes(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    before = api.stack.scan()
    for kind in ["platform", "bakery"]:
        bad = api.post(
            "/tenants",
            {"name": "Nope", "kind": kind, "admin": {"email": "n@n.example.com", "name": "N"}},
            token=root.token,
        )
        assert (bad.status, bad.code) == (422, "API_007")
        assert bad.json["error"]["details"][0]["field"] == "kind"
    change = api.patch(f"/tenants/{boss.tenant_id}", {"kind": "dental_practice"}, token=root.token)
    assert (change.status, change.code) == (422, "API_007")
    assert api.stack.scan() == before
