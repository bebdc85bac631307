"""Issue 4 (users, roles, invitations, data requests) over HTTP against the running local stack.

An admin invites a pharmacist, who accepts from the mailed link; a role change with a reason
shows in the history and applies on her next request; suspension refuses her login and her
token; then her data is exported and erased, and the erasure is in the deletion log.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.client import PASSWORD, Api, Mailbox, login, new_tenant, unique_email

pytestmark = pytest.mark.e2e


def test_invite_accept_role_change_suspend_export_delete(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    admin = new_tenant(api, mailbox, str(local_stack["admin_token"]))
    email = unique_email("pia", admin.email.split("@", 1)[1])

    # invited, accepted from the link in the mail
    invited = api.post(
        "/invitations", {"email": email, "role": "pharmacist", "name": "Pia Pharma"}, token=admin.token
    )
    assert invited.status == 201, str(invited)
    mail = mailbox.wait_for(email, "/invitations/accept?token=")
    accepted = api.post("/invitations/accept", {"token": mail.link_token(), "password": PASSWORD})
    assert accepted.status == 201, str(accepted)
    reused = api.post("/invitations/accept", {"token": mail.link_token(), "password": PASSWORD})
    assert (reused.status, reused.code) == (410, "SAAS_012")  # the link works once
    pending = api.get("/invitations", token=admin.token).json["items"]
    assert [i["status"] for i in pending if i["email"] == email] == ["accepted"]

    pia = login(api, email)
    assert api.get(f"/users/{pia.user_id}", token=admin.token).json["role"] == "pharmacist"
    assert api.get("/users", token=pia.token).status == 200  # pharmacists may list staff

    # role change with a reason: in the history, and in force on her very next request
    changed = api.post(
        f"/users/{pia.user_id}/role",
        {"role": "technician", "reason": "covers stock this month"},
        token=admin.token,
    )
    assert changed.status == 200, str(changed)
    assert changed.json["role"] == "technician"
    history = api.get(f"/users/{pia.user_id}/role-history", token=admin.token)
    assert history.status == 200, str(history)
    entry = history.json["items"][0]
    assert (entry["from_role"], entry["to_role"], entry["reason"], entry["changed_by"]) == (
        "pharmacist",
        "technician",
        "covers stock this month",
        admin.user_id,
    )
    refused = api.get("/users", token=pia.token)  # technicians may not list staff
    assert (refused.status, refused.code) == (403, "SAAS_001")
    assert api.get(f"/tenants/{admin.tenant_id}", token=pia.token).status == 200  # but may read the tenant

    # suspended: her token is refused at once and login answers AUTH_003; unsuspended: back in
    suspended = api.post(
        f"/users/{pia.user_id}/suspend",
        {"reason": "security_concern", "notes": "odd logins"},
        token=admin.token,
    )
    assert suspended.status == 200, str(suspended)
    assert suspended.json["status"] == "suspended"
    gone = api.get(f"/tenants/{admin.tenant_id}", token=pia.token)
    assert (gone.status, gone.code) == (401, "AUTH_004")
    denied = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert (denied.status, denied.code) == (403, "AUTH_003")
    back = api.post(f"/users/{pia.user_id}/unsuspend", {"reason": "verified with Pia"}, token=admin.token)
    assert back.status == 200, str(back)
    assert back.json["status"] == "active"
    pia = login(api, email)
    assert api.get(f"/tenants/{admin.tenant_id}", token=pia.token).status == 200

    # her data, exported, then erased
    export = api.get(f"/users/{pia.user_id}/data-export", token=admin.token)
    assert export.status == 200, str(export)
    assert export.json["user_id"] == pia.user_id
    assert export.json["user"]["email"] == email
    assert export.json["sessions"]
    assert export.json["audit_records"]
    deleted = api.post(
        f"/users/{pia.user_id}/data-deletion", {"reason": "GDPR erasure request #88"}, token=admin.token
    )
    assert deleted.status == 200, str(deleted)
    assert api.get(f"/tenants/{admin.tenant_id}", token=pia.token).status == 401  # sessions erased
    log = api.get("/deletion-log", token=admin.token)
    assert log.status == 200, str(log)
    logged = log.json["items"][0]
    assert (logged["user_id"], logged["requested_by"], logged["reason"]) == (
        pia.user_id,
        admin.user_id,
        "GDPR erasure request #88",
    )
    assert logged["completed_at"]
    gone_login = api.post("/auth/login", {"email": email, "password": PASSWORD})
    assert (gone_login.status, gone_login.code) == (401, "AUTH_001")
