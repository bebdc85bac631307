"""The issue's demo, end to end through the real handlers, mail and pipeline."""

from __future__ import annotations

from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import invite


def test_invite_accept_role_change_suspend_export_delete(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    invite(api, boss, "pharma@acme.example.com", "pharmacist", name="Pia Pharma")
    accepted = api.post(
        "/invitations/accept", {"token": mailed_token(api, "pharma@acme.example.com"), "password": PASSWORD}
    )
    assert accepted.status == 201
    pia = login(api, "pharma@acme.example.com")
    assert api.get("/users", token=pia.token).status == 200
    changed = api.post(
        f"/users/{pia.user_id}/role", {"role": "technician", "reason": "covers stock"}, token=boss.token
    )
    assert changed.status == 200
    assert api.get("/users", token=pia.token).code == "SAAS_001"  # her next request runs as technician
    history = api.get(f"/users/{pia.user_id}/role-history", token=boss.token).json["items"]
    assert history[0]["reason"] == "covers stock"
    assert api.post(f"/users/{pia.user_id}/suspend", {"reason": "other"}, token=boss.token).status == 200
    assert (
        api.post("/auth/login", {"email": "pharma@acme.example.com", "password": PASSWORD}).code == "AUTH_003"
    )
    assert (
        api.post(f"/users/{pia.user_id}/unsuspend", {"reason": "back from leave"}, token=boss.token).status
        == 200
    )
    assert login(api, "pharma@acme.example.com").token
    export = api.get(f"/users/{pia.user_id}/data-export", token=boss.token)
    assert export.json["user"]["email"] == "pharma@acme.example.com"
    deleted = api.post(
        f"/users/{pia.user_id}/data-deletion", {"reason": "GDPR erasure request"}, token=boss.token
    )
    assert deleted.status == 200
    log = api.get("/deletion-log", token=boss.token).json["items"]
    assert log[0]["user_id"] == pia.user_id
    assert (
        api.post("/auth/login", {"email": "pharma@acme.example.com", "password": PASSWORD}).code == "AUTH_001"
    )
