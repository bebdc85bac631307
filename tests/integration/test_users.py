"""Users: listing with every filter, search, profile, creation under the plan's limit, activity."""

from __future__ import annotations

from typing import Any

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.calls import dynamodb_calls
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import member
from tests.support.pipeline import Pipeline


def _users(api: Api, token: str, **query: Any) -> list[str]:
    reply = api.get("/users", token=token, query=query)
    assert reply.status == 200, reply.text
    return [u["email"] for u in reply.json["items"]]


def test_create_user_mails_activation_and_counts_a_seat(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    reply = api.post(
        "/users",
        {
            "email": "Cash@acme.example.com",
            "name": "Casey Cash",
            "role": "cashier",
            "phone": "+234 801 234 5678",
        },
        token=boss.token,
    )
    assert reply.status == 201, reply.text
    assert reply.json["status"] == "pending_activation"
    assert reply.json["phone"] == "+2348012345678"
    Pipeline(api.stack).run()
    token = mailed_token(api, "Cash@acme.example.com")
    assert api.post("/auth/activate", {"token": token, "password": PASSWORD}).status == 200
    tenant = api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json
    assert tenant["user_count"] == 2
    assert _users(api, boss.token, status="active") == ["Cash@acme.example.com", boss.email]
    created = api.get("/audit-logs", token=boss.token, query={"event_type": "user_created"}).json["items"]
    assert created[0]["target_id"] == reply.json["user_id"]


def test_create_user_at_the_limit_is_saas_006_and_writes_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.patch(f"/tenants/{boss.tenant_id}", {"limits": {"max_users": 1}}, token=root.token)
    before = api.stack.scan()
    reply = api.post(
        "/users", {"email": "x@acme.example.com", "name": "X", "role": "cashier"}, token=boss.token
    )
    assert (reply.status, reply.code) == (409, "SAAS_006")
    assert api.stack.scan() == before


def test_create_user_bad_input_names_the_field(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    before = api.stack.scan()
    cases = [
        ({"email": "not-an-email", "name": "X", "role": "cashier"}, "email"),
        ({"email": "a@acme.example.com", "name": "X", "role": "cashier", "phone": "12345"}, "phone"),
        ({"email": "a@acme.example.com", "name": "X", "role": "wizard"}, "role"),
        ({"email": "a@acme.example.com", "name": "X", "role": "super_admin"}, "role"),
    ]
    for body, field in cases:
        reply = api.post("/users", body, token=boss.token)
        assert (reply.status, reply.code) == (422, "API_007"), reply.text
        assert field in [d["field"] for d in reply.json["error"]["details"]]
    assert api.stack.scan() == before


def test_create_user_permissions_and_tenants(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    pharmacist = member(api, boss, "ph@acme.example.com")
    body = {"email": "n@acme.example.com", "name": "N", "role": "cashier"}
    denied = api.post("/users", body, token=pharmacist.token)
    assert (denied.status, denied.code) == (403, "SAAS_001")
    assert api.post("/users", body, token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    by_root = api.post("/users", body, token=root.token, query={"tenant_id": boss.tenant_id})
    assert by_root.status == 201
    assert by_root.json["tenant_id"] == boss.tenant_id


def test_list_users_filters_by_role_status_and_date(api: Api) -> None:
    root = super_admin(api)
    clock.freeze(clock.parse("2026-03-01T10:00:00Z"))
    boss = tenant_admin(api, root)
    clock.advance(days=10)
    boss = login(api, boss.email)
    member(api, boss, "ph1@acme.example.com", name="Ada Lovelace")
    clock.advance(days=10)
    boss = login(api, boss.email)
    member(api, boss, "ph2@acme.example.com", name="Grace Hopper")
    api.post(
        "/users", {"email": "c@acme.example.com", "name": "Cy Cash", "role": "cashier"}, token=boss.token
    )
    assert _users(api, boss.token, role="pharmacist") == ["ph2@acme.example.com", "ph1@acme.example.com"]
    assert _users(api, boss.token, role="pharmacist", status="active", registered_to="2026-03-15") == [
        "ph1@acme.example.com"
    ]
    assert _users(api, boss.token, role="pharmacist", registered_from="2026-03-15") == [
        "ph2@acme.example.com"
    ]
    assert _users(api, boss.token, status="pending_activation") == ["c@acme.example.com"]
    assert _users(api, boss.token, registered_from="2026-03-05", registered_to="2026-03-12") == [
        "ph1@acme.example.com"
    ]
    assert len(_users(api, boss.token)) == 4
    first = api.get("/users", token=boss.token, query={"limit": 3}).json
    rest = api.get("/users", token=boss.token, query={"limit": 3, "cursor": first["next_cursor"]}).json
    assert len(first["items"]) + len(rest["items"]) == 4
    mixed = api.get("/users", token=boss.token, query={"role": "cashier", "cursor": first["next_cursor"]})
    assert (mixed.status, mixed.code) == (400, "API_005")


def test_search_by_email_or_name_prefix_case_insensitive(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    member(api, boss, "ada@acme.example.com", name="Ada Lovelace")
    member(api, boss, "grace@acme.example.com", name="Grace Brewster Hopper")
    assert _users(api, boss.token, q="LOVE") == ["ada@acme.example.com"]
    assert _users(api, boss.token, q="hop") == ["grace@acme.example.com"]
    assert _users(api, boss.token, q="grace b") == ["grace@acme.example.com"]
    assert _users(api, boss.token, q="ada@") == ["ada@acme.example.com"]
    assert _users(api, boss.token, q="zed") == []
    assert _users(api, boss.token, q="ada", role="cashier") == []


def test_list_users_permissions_and_tenants(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert api.get("/users", token=cashier.token).code == "SAAS_001"
    assert api.get("/users", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert _users(api, other.token) == ["boss@other.example.com"]
    assert sorted(_users(api, root.token, tenant_id=boss.tenant_id)) == [boss.email, "cash@acme.example.com"]
    bad = api.get("/users", token=boss.token, query={"status": "sleeping"})
    assert (bad.status, bad.code) == (422, "API_007")


def test_get_user_shows_profile_role_tenant_and_2fa(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    got = api.get(f"/users/{ph.user_id}", token=boss.token)
    assert got.status == 200
    body = got.json
    assert body["role"] == "pharmacist"
    assert body["tenant"] == {"tenant_id": boss.tenant_id, "name": "Acme Pharmacy", "plan": "starter"}
    assert body["two_factor_enabled"] is False
    assert "users:read" in body["permissions"]
    assert body["last_login_at"]
    assert "password_hash" not in body
    assert api.get(f"/users/{cashier.user_id}", token=cashier.token).status == 200  # own profile
    assert api.get(f"/users/{ph.user_id}", token=cashier.token).code == "SAAS_001"
    assert api.get(f"/users/{ph.user_id}", token=other.token).status == 404
    assert (
        api.get(f"/users/{ph.user_id}", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    )
    assert (
        api.get(f"/users/{ph.user_id}", token=root.token, query={"tenant_id": boss.tenant_id}).status == 200
    )
    assert api.get("/users/usr_nope", token=boss.token).code == "SAAS_002"


def test_update_user_normalises_phone_and_reverifies_email(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com", name="Ada Lovelace")
    reply = api.patch(
        f"/users/{ph.user_id}",
        {"name": "Ada King", "phone": "+44 20 7946 0958", "email": "ada.new@acme.example.com"},
        token=boss.token,
    )
    assert reply.status == 200, reply.text
    assert reply.json["phone"] == "+442079460958"
    assert reply.json["email"] == "ph@acme.example.com"  # unchanged until verified
    assert reply.json["pending_email"] == "ada.new@acme.example.com"
    assert _users(api, boss.token, q="king") == ["ph@acme.example.com"]
    assert _users(api, boss.token, q="lovelace") == []
    Pipeline(api.stack).run()
    token = mailed_token(api, "ada.new@acme.example.com")
    confirmed = api.post("/users/email-change/confirm", {"token": token})
    assert confirmed.status == 200, confirmed.text
    assert confirmed.json["email"] == "ada.new@acme.example.com"
    assert api.post("/auth/login", {"email": "ph@acme.example.com", "password": PASSWORD}).status == 401
    assert api.post("/auth/login", {"email": "ada.new@acme.example.com", "password": PASSWORD}).status == 200
    again = api.post("/users/email-change/confirm", {"token": token})
    assert (again.status, again.code) == (410, "SAAS_012")


def test_update_user_bad_input_and_permissions(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    before = api.stack.scan()
    for body, field in [
        ({"phone": "call me"}, "phone"),
        ({"email": "nope"}, "email"),
        ({"colour": "red"}, "colour"),
    ]:
        reply = api.patch(f"/users/{ph.user_id}", body, token=boss.token)
        assert (reply.status, reply.code) == (422, "API_007")
        assert reply.json["error"]["details"][0]["field"] == field
    taken = api.patch(f"/users/{ph.user_id}", {"email": boss.email}, token=boss.token)  # same tenant
    assert (taken.status, taken.code) == (409, "SAAS_011")
    assert api.patch(f"/users/{ph.user_id}", {"name": "Z"}, token=cashier.token).code == "SAAS_001"
    assert api.patch(f"/users/{ph.user_id}", {"name": "Z"}, token=other.token).status == 404
    assert api.stack.scan() == before
    own = api.patch(f"/users/{cashier.user_id}", {"name": "Casey"}, token=cashier.token)
    assert own.status == 200
    assert (
        api.patch(
            f"/users/{ph.user_id}", {"name": "R"}, token=root.token, query={"tenant_id": boss.tenant_id}
        ).status
        == 200
    )


def test_user_activity_lists_logins_and_actions(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    api.post("/auth/login", {"email": "ph@acme.example.com", "password": "wrong-password"})
    api.patch(f"/users/{ph.user_id}", {"name": "Pat Renamed"}, token=ph.token)
    logins = api.get(f"/users/{ph.user_id}/activity", token=boss.token, query={"kind": "logins"}).json[
        "items"
    ]
    assert [r["event_type"] for r in logins] == ["login_failed", "login"]
    assert logins[0]["ip"] == "203.0.113.10"
    actions = api.get(f"/users/{ph.user_id}/activity", token=boss.token, query={"kind": "actions"}).json[
        "items"
    ]
    assert "user_updated" in [r["event_type"] for r in actions]
    assert "login" not in [r["event_type"] for r in actions]
    assert api.get(f"/users/{ph.user_id}/activity", token=ph.token).status == 200
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert api.get(f"/users/{ph.user_id}/activity", token=cashier.token).code == "SAAS_001"
    assert api.get(f"/users/{ph.user_id}/activity", token=other.token).status == 404
    by_root = api.get(f"/users/{ph.user_id}/activity", token=root.token, query={"tenant_id": boss.tenant_id})
    assert by_root.status == 200
    bad = api.get(f"/users/{ph.user_id}/activity", token=boss.token, query={"kind": "everything"})
    assert (bad.status, bad.code) == (422, "API_007")


def test_changing_to_an_address_of_another_tenant_answers_as_for_a_new_one(api: Api) -> None:
    """Any user may change their own e-mail: learning that an address exists elsewhere must not be
    possible that way either. The owner of the address alone is refused, at confirmation."""
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    member(api, other, "taken@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    reply = api.patch(f"/users/{ph.user_id}", {"email": "taken@other.example.com"}, token=ph.token)
    assert reply.status == 200, reply.text
    assert reply.json["pending_email"] == "taken@other.example.com"
    Pipeline(api.stack).run()
    token = mailed_token(api, "taken@other.example.com")
    refused = api.post("/users/email-change/confirm", {"token": token})
    assert (refused.status, refused.code) == (409, "SAAS_011")
    assert login(api, "ph@acme.example.com").user_id == ph.user_id
    assert login(api, "taken@other.example.com").tenant_id == other.tenant_id
    same_tenant = api.patch(f"/users/{ph.user_id}", {"email": boss.email}, token=ph.token)
    assert (same_tenant.status, same_tenant.code) == (409, "SAAS_011")


def test_creating_a_user_with_an_address_of_another_tenant_answers_as_for_a_new_one(api: Api) -> None:
    """The creator cannot learn that an address has an account in another tenant: the answer, the
    DynamoDB calls and the mail are those of a new address; only the address's owner, activating,
    is told, and their account is untouched."""
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    elsewhere = member(api, other, "taken@other.example.com")
    body = {"name": "Casey", "role": "cashier"}
    assert api.post("/users", {**body, "email": "warm@new.example.com"}, token=boss.token).status == 201
    replies, trace = {}, {}
    for email in ["fresh@new.example.com", "taken@other.example.com"]:
        with dynamodb_calls() as calls:
            replies[email] = api.post("/users", {**body, "email": email}, token=boss.token)
        trace[email] = calls
    fresh, taken = replies.values()
    assert (taken.status, fresh.status) == (201, 201), taken.text
    varying = {"user_id", "email", "created_at"}
    assert {k: v for k, v in taken.json.items() if k not in varying} == {
        k: v for k, v in fresh.json.items() if k not in varying
    }
    assert trace["taken@other.example.com"] == trace["fresh@new.example.com"]
    shown = api.get(f"/users/{taken.json['user_id']}", token=boss.token)
    assert (shown.status, shown.json["status"]) == (200, "pending_activation")

    Pipeline(api.stack).run()
    token = mailed_token(api, "taken@other.example.com")  # mailed like any new account
    refused = api.post("/auth/activate", {"token": token, "password": PASSWORD})
    assert (refused.status, refused.code) == (409, "SAAS_011")
    assert "another organisation" in refused.json["error"]["message"]
    assert login(api, "taken@other.example.com").tenant_id == elsewhere.tenant_id == other.tenant_id

    # deleting the pending user leaves the other tenant's account and its address alone
    gone = api.post(f"/users/{taken.json['user_id']}/data-deletion", {"reason": "typo"}, token=boss.token)
    assert gone.status == 200, gone.text
    assert login(api, "taken@other.example.com").user_id == elsewhere.user_id

    same = api.post("/users", {**body, "email": "taken@other.example.com"}, token=other.token)
    assert (same.status, same.code) == (409, "SAAS_011")  # a member of the same tenant: no leak to answer
