"""The outbox relay keeps hearing the table's stream after a refused write (issue 8, item 1).

moto replaces a table's object when it cancels a transaction; a relay that kept reading the old
stream went deaf until the outbox sweep ran minutes later, and re-delivered an event.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.e2e.client import Api, Mailbox, request, unique_email

pytestmark = pytest.mark.e2e

MAIL_WITHIN_SECONDS = 10.0


def _tenant(api: Api, token: str, email: str) -> Any:
    slug = uuid.uuid4().hex[:8]
    body = {"name": f"Relay {slug}", "admin": {"email": email, "name": "Rae"}}
    return api.post("/tenants", body, token=token)


def published_event_ids(api_url: str) -> list[str]:
    """The id of every message published to SNS (`GET /_local/published`)."""
    return list(request("GET", api_url.rstrip("/") + "/_local/published").json)


def test_mail_flows_right_after_a_refused_write_and_no_event_is_published_twice(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    root = str(local_stack["admin_token"])
    domain = f"{uuid.uuid4().hex[:8]}.example.com"
    first, third = unique_email("first", domain), unique_email("third", domain)

    assert _tenant(http_api, root, first).status == 201
    mailbox.wait_for(first, "/activate?token=", timeout=MAIL_WITHIN_SECONDS)

    refused = _tenant(http_api, root, first)  # the same admin address: the transaction is cancelled
    assert (refused.status, refused.code) == (409, "SAAS_011"), str(refused)

    assert _tenant(http_api, root, third).status == 201
    mailbox.wait_for(third, "/activate?token=", timeout=MAIL_WITHIN_SECONDS)

    assert len([m for m in mailbox.sent() if first in m.to and "/activate?token=" in m.body]) == 1
    published = Counter(published_event_ids(local_stack["api_url"]))
    twice = [event_id for event_id, n in published.items() if n > 1]
    assert not twice, f"events published more than once: {twice}"
