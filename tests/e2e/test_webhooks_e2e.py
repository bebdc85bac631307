"""Outgoing webhooks over HTTP against the local stack: a tenant admin registers a receiver on
this machine for `user.*`, creates a user, and a delivery verified with `standardwebhooks` arrives
through the relay, the fan-out and the delivery worker; the delivery log shows it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.e2e.client import Api, Mailbox, new_tenant
from tests.support.receiver import Receiver

pytestmark = pytest.mark.e2e


def test_a_created_user_arrives_as_a_verified_webhook(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    owner = new_tenant(http_api, mailbox, str(local_stack["admin_token"]), "Hooks")
    receiver = Receiver().start()
    try:
        ep = http_api.post(
            "/webhooks/endpoints", {"url": receiver.url, "event_types": ["user.*"]}, token=owner.token
        )
        assert ep.status == 201, str(ep)
        email = f"pat-{uuid.uuid4().hex[:6]}@example.com"
        made = http_api.post("/users", {"email": email, "name": "Pat", "role": "cashier"}, token=owner.token)
        assert made.status == 201, str(made)
        deadline = time.monotonic() + 20
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.got, "no delivery within 20 s"
        got = receiver.got[0]
        payload = Webhook(ep.json["secret"]).verify(got.body, got.headers)
        assert (payload["type"], payload["data"]["user_id"]) == ("user.created", made.json["user_id"])
        log = http_api.get("/webhooks/deliveries", token=owner.token).json["items"]
        assert [(d["delivery_id"], d["status"]) for d in log] == [(got.headers["webhook-id"], "succeeded")]
    finally:
        receiver.stop()
