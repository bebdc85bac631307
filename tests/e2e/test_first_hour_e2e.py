"""The first hour, as the README walks it, over HTTP against the running stack (issue 8, item 2).

Create a tenant, open the activation link from the mail, set a password on its page, sign in as
the tenant admin, invite a user, open the invitation link, accept it on its page, sign in as them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.client import PASSWORD, Api, Mailbox, Reply, login, request, submit_form, unique_email

pytestmark = pytest.mark.e2e


def open_link(url: str) -> Reply:
    page = request("GET", url)
    assert page.status == 200, str(page)
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    return page


def test_first_hour_from_a_new_tenant_to_its_first_invited_user(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    slug = uuid.uuid4().hex[:8]
    owner = unique_email("owner", f"{slug}.example.com")
    created = http_api.post(
        "/tenants",
        {"name": f"Riverside {slug}", "admin": {"email": owner, "name": "Rita"}},
        token=local_stack["admin_token"],
    )
    assert created.status == 201, str(created)

    link = mailbox.wait_for(owner, "/activate?token=").link("/activate?token=")
    assert link.startswith(local_stack["api_url"] + "/activate?token=")  # PublicBaseUrl is the API
    activated = submit_form(link, open_link(link), password=PASSWORD)
    assert activated.status == 200, str(activated)
    assert b"Account activated" in activated.body
    admin = login(http_api, owner)

    member = unique_email("pharmacist", f"{slug}.example.com")
    invited = http_api.post(
        "/invitations", {"email": member, "role": "pharmacist", "name": "Pat"}, token=admin.token
    )
    assert invited.status == 201, str(invited)
    link = mailbox.wait_for(member, "/invitations/accept?token=").link("/invitations/accept?token=")
    accepted = submit_form(link, open_link(link), password=PASSWORD)
    assert accepted.status == 200, str(accepted)

    pat = login(http_api, member)
    assert pat.tenant_id == admin.tenant_id
    me = http_api.get(f"/users/{pat.user_id}", token=pat.token)
    assert (me.status, me.json["role"]) == (200, "pharmacist")
