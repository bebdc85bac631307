"""Invitations: mailed expiring links, resend (old link dies), revoke, accept under the policy."""

from __future__ import annotations

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.calls import dynamodb_calls
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import invite, member
from tests.support.pipeline import Pipeline


def test_invite_accept_and_log_in(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    inv = invite(api, boss, "new@acme.example.com", "pharmacist", name="Nina New")
    assert inv["status"] == "pending"
    assert inv["user_id"] is None
    mail = api.stack.sent_mail()[-1]
    assert "Acme Pharmacy" in mail.subject
    assert "/invitations/accept?token=" in mail.body
    token = mailed_token(api, "new@acme.example.com")
    weak = api.post("/invitations/accept", {"token": token, "password": "short"})
    assert (weak.status, weak.code, weak.json["error"]["details"][0]["field"]) == (422, "API_007", "password")
    accepted = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert accepted.status == 201, accepted.text
    assert accepted.json["status"] == "active"
    assert accepted.json["role"] == "pharmacist"
    assert accepted.json["name"] == "Nina New"
    nina = login(api, "new@acme.example.com")
    assert nina.tenant_id == boss.tenant_id
    assert api.get("/users", token=nina.token).status == 200
    listed = api.get("/invitations", token=boss.token, query={"status": "accepted"}).json["items"]
    assert [(i["invitation_id"], i["user_id"]) for i in listed] == [(inv["invitation_id"], nina.user_id)]
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["user_count"] == 2
    used = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert (used.status, used.code) == (410, "SAAS_012")


def test_invite_refusals(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    invite(api, boss, "pending@acme.example.com")
    before = api.stack.scan()
    existing = api.post("/invitations", {"email": "ph@acme.example.com", "role": "cashier"}, token=boss.token)
    assert (existing.status, existing.code) == (409, "SAAS_011")
    assert "already has an account in this tenant" in existing.json["error"]["message"]
    twice = api.post(
        "/invitations", {"email": "pending@acme.example.com", "role": "cashier"}, token=boss.token
    )
    assert (twice.status, twice.code) == (409, "SAAS_011")
    for body, field in [
        ({"email": "nope", "role": "cashier"}, "email"),
        ({"email": "x@acme.example.com", "role": "wizard"}, "role"),
        ({"email": "x@acme.example.com", "role": "cashier", "expires_in_days": 90}, "expires_in_days"),
    ]:
        reply = api.post("/invitations", body, token=boss.token)
        assert (reply.status, reply.code) == (422, "API_007")
        assert reply.json["error"]["details"][0]["field"] == field
    body = {"email": "x@acme.example.com", "role": "cashier"}
    assert api.post("/invitations", body, token=ph.token).code == "SAAS_001"
    assert (
        api.post("/invitations", body, token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    )
    assert api.get("/invitations", token=ph.token).code == "SAAS_001"
    assert api.get("/invitations", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert api.stack.scan() == before
    assert api.post("/invitations", body, token=root.token, query={"tenant_id": boss.tenant_id}).status == 201
    assert (
        len(api.get("/invitations", token=root.token, query={"tenant_id": boss.tenant_id}).json["items"]) == 3
    )


def test_expired_invitation_answers_410_and_can_be_resent(api: Api) -> None:
    root = super_admin(api)
    clock.freeze(clock.parse("2026-06-01T08:00:00Z"))
    boss = tenant_admin(api, root)
    inv = invite(api, boss, "late@acme.example.com", expires_in_days=1)
    token = mailed_token(api, "late@acme.example.com")
    clock.advance(days=1, seconds=1)
    boss = login(api, boss.email)
    assert [
        i["status"]
        for i in api.get("/invitations", token=boss.token, query={"status": "expired"}).json["items"]
    ] == ["expired"]
    assert api.get("/invitations", token=boss.token, query={"status": "pending"}).json["items"] == []
    late = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert (late.status, late.code) == (410, "SAAS_012")
    again = api.post(f"/invitations/{inv['invitation_id']}/resend", token=boss.token)
    assert again.status == 200, again.text
    assert again.json["status"] == "pending"
    assert again.json["sent_count"] == 2
    Pipeline(api.stack).run()
    fresh = mailed_token(api, "late@acme.example.com")
    assert fresh != token
    assert api.post("/invitations/accept", {"token": fresh, "password": PASSWORD}).status == 201


def test_resend_kills_the_old_link_and_revoke_kills_all(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    inv = invite(api, boss, "r@acme.example.com")
    first = mailed_token(api, "r@acme.example.com")
    path = f"/invitations/{inv['invitation_id']}"
    assert api.post(f"{path}/resend", token=ph.token).code == "SAAS_001"
    assert api.post(f"{path}/resend", token=other.token).status == 404
    assert api.post(f"{path}/revoke", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert api.post(f"{path}/resend", token=boss.token).status == 200
    old = api.post("/invitations/accept", {"token": first, "password": PASSWORD})
    assert (old.status, old.code) == (410, "SAAS_012")
    Pipeline(api.stack).run()
    second = mailed_token(api, "r@acme.example.com")
    revoked = api.post(f"{path}/revoke", token=boss.token)
    assert revoked.status == 200
    assert revoked.json["status"] == "revoked"
    dead = api.post("/invitations/accept", {"token": second, "password": PASSWORD})
    assert (dead.status, dead.code) == (410, "SAAS_012")
    before = api.stack.scan()
    assert api.post(f"{path}/resend", token=boss.token).code == "SAAS_011"
    assert api.post(f"{path}/revoke", token=boss.token).code == "SAAS_011"
    assert api.stack.scan() == before
    listed = api.get("/invitations", token=boss.token, query={"status": "revoked"}).json["items"]
    assert [i["invitation_id"] for i in listed] == [inv["invitation_id"]]
    # the address may be invited again once the old invitation is revoked
    assert (
        api.post("/invitations", {"email": "r@acme.example.com", "role": "cashier"}, token=boss.token).status
        == 201
    )
    by_root = api.post(
        "/invitations",
        {"email": "z@acme.example.com", "role": "cashier"},
        token=root.token,
        query={"tenant_id": boss.tenant_id},
    ).json
    assert (
        api.post(
            f"/invitations/{by_root['invitation_id']}/revoke",
            token=root.token,
            query={"tenant_id": boss.tenant_id},
        ).status
        == 200
    )


def test_accept_at_the_user_limit_is_saas_006(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    invite(api, boss, "full@acme.example.com")
    api.patch(f"/tenants/{boss.tenant_id}", {"limits": {"max_users": 1}}, token=root.token)
    token = mailed_token(api, "full@acme.example.com")
    before = [i for i in api.stack.scan() if i.get("entity") not in {"outbox"}]
    reply = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert (reply.status, reply.code) == (409, "SAAS_006")
    assert [i for i in api.stack.scan() if i.get("entity") not in {"outbox"}] == before


def test_inviting_an_address_of_another_tenant_answers_as_for_a_new_one(api: Api) -> None:
    """Issue 7.5: the inviter cannot learn that an address has an account in another tenant."""
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    elsewhere = member(api, other, "taken@other.example.com")
    invite(api, boss, "warm@new.example.com")  # the tenant's kind is read once per container
    replies, trace = {}, {}
    for email in ["fresh@new.example.com", "taken@other.example.com"]:
        with dynamodb_calls() as calls:
            replies[email] = api.post("/invitations", {"email": email, "role": "cashier"}, token=boss.token)
        trace[email] = calls
    fresh, taken = replies.values()
    assert (taken.status, fresh.status) == (201, 201), taken.text
    assert set(taken.json) == set(fresh.json)
    assert {
        k: v for k, v in taken.json.items() if k not in {"invitation_id", "email", "created_at", "expires_at"}
    } == {
        k: v for k, v in fresh.json.items() if k not in {"invitation_id", "email", "created_at", "expires_at"}
    }
    assert trace["taken@other.example.com"] == trace["fresh@new.example.com"]  # same reads, same write
    Pipeline(api.stack).run()
    token = mailed_token(api, "taken@other.example.com")  # mailed like any invitation
    refused = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert (refused.status, refused.code) == (409, "SAAS_011")
    assert "another organisation" in refused.json["error"]["message"]
    assert login(api, "taken@other.example.com").tenant_id == elsewhere.tenant_id == other.tenant_id
    pending = api.get("/invitations", token=boss.token, query={"status": "pending"}).json["items"]
    assert sorted(i["email"] for i in pending) == [
        "fresh@new.example.com",
        "taken@other.example.com",
        "warm@new.example.com",
    ]
    same = api.post(
        "/invitations", {"email": "taken@other.example.com", "role": "cashier"}, token=other.token
    )
    assert (same.status, same.code) == (409, "SAAS_011")  # a member of the same tenant: no leak to answer
