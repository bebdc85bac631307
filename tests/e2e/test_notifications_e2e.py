"""Notifications over HTTP against the local stack, the issue's "Done when" path: configure SMS
(the stack's fake Twilio API answers the real client), a test SMS, a template and its preview, a
rule on `user.role_changed` with SMS then e-mail, a role change whose SMS fails (a landline) and
whose e-mail goes out, a signed Twilio status callback, a scheduled bulk send cancelled, and one to
all pharmacists reaching each inbox exactly once."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.e2e.client import Actor, Api, Mailbox, invite_member, new_tenant

pytestmark = pytest.mark.e2e

ACCOUNT_SID = "AC" + "e" * 32
MOBILE = "+447911123456"
LANDLINE = "+442071838750"
WAIT_SECONDS = 20.0


def _until(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {WAIT_SECONDS} s")


def _twilio_sent(fake_url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{fake_url}/_fake/state", timeout=10) as answer:
        return list(json.loads(answer.read())["sent"])


def _callback(api_url: str, tenant_id: str, token: str, params: dict[str, str]) -> int:
    url = f"{api_url}/notifications/twilio/status?tenant={tenant_id}"
    signature = RequestValidator(token).compute_signature(url, params)
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        method="POST",
        headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _history(api: Api, owner: Actor, **query: str) -> list[dict[str, Any]]:
    reply = api.get("/notifications/history", token=owner.token, query=query)
    assert reply.status == 200, str(reply)
    return list(reply.json["items"])


def test_done_when_path_over_http(local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox) -> None:
    api, fake = http_api, str(local_stack["fake_twilio_url"])
    owner = new_tenant(api, mailbox, str(local_stack["admin_token"]), "Notify")
    auth_token = secrets.token_hex(16)

    # configure SMS; a test SMS answered by the (fake) provider, a landline refused with advice
    configured = api.call(
        "PUT",
        "/notifications/channels",
        {
            "channel": "sms",
            "enabled": True,
            "settings": {"from_number": "+15005550006"},
            "credentials": {"account_sid": ACCOUNT_SID, "auth_token": auth_token},
        },
        token=owner.token,
    )
    assert configured.status == 200, str(configured)
    assert auth_token not in configured.body.decode()
    tested = api.post("/notifications/channels/test", {"channel": "sms", "to": MOBILE}, token=owner.token)
    assert tested.status == 200, str(tested)
    assert (tested.json["ok"], tested.json["status"]) == (True, "sent")
    assert tested.json["provider_id"] in {m["sid"] for m in _twilio_sent(fake)}
    refused = api.post("/notifications/channels/test", {"channel": "sms", "to": LANDLINE}, token=owner.token)
    assert (refused.json["ok"], refused.json["provider_code"]) == (False, "21614")
    assert "not a mobile number" in refused.json["advice"]

    # templates, a preview, the rule
    for channel, subject in (("sms", None), ("email", "Your role changed")):
        template = {
            "name": "role_changed",
            "channel": channel,
            "body": "Hi {{ user.firstName }}, now {{ event.to_role }}.",
        }
        made = api.post(
            "/notifications/templates",
            {**template, **({"subject": subject} if subject else {})},
            token=owner.token,
        )
        assert made.status == 201, str(made)
    preview = api.post(
        "/notifications/templates/preview",
        {
            "template_id": made.json["template_id"],
            "data": {"user": {"firstName": "Ann"}, "event": {"to_role": "pharmacist"}},
        },
        token=owner.token,
    )
    assert preview.status == 200, str(preview)
    assert (preview.json["subject"], preview.json["body"]) == ("Your role changed", "Hi Ann, now pharmacist.")
    rule = api.post(
        "/notifications/rules",
        {
            "name": "Role changes",
            "trigger": "user.role_changed",
            "channels": ["sms", "email"],
            "template": "role_changed",
            "category": "transactional",
        },
        token=owner.token,
    )
    assert rule.status == 201, str(rule)

    # a cashier with a landline becomes a pharmacist: the SMS fails, the e-mail goes out
    pat = invite_member(api, mailbox, owner, "cashier", "Pat Cash")
    ph = invite_member(api, mailbox, owner, "pharmacist", "Phil Pharm")
    assert api.call("PATCH", f"/users/{pat.user_id}", {"phone": LANDLINE}, token=owner.token).status == 200
    moved = api.post(
        f"/users/{pat.user_id}/role", {"role": "pharmacist", "reason": "promoted"}, token=owner.token
    )
    assert moved.status == 200, str(moved)
    mail = mailbox.wait_for(pat.email, "now pharmacist")
    assert "Hi Pat, now pharmacist." in mail.body
    note = _until(
        "both hops in the history",
        lambda: [n for n in _history(api, owner) if n["user_id"] == pat.user_id and len(n["hops"]) == 2],
    )[0]
    sms, email = note["hops"]
    assert (sms["channel"], sms["status"], sms["error"]) == ("sms", "failed", "21614")
    assert (email["channel"], email["status"]) == ("email", "sent")

    # a direct SMS, then Twilio's signed status callback: a forged one is refused
    sent = api.post(
        "/notifications/send",
        {"phone": MOBILE, "channels": ["sms"], "body": "Order ready"},
        token=owner.token,
    )
    assert sent.status == 202, str(sent)
    sid = _until(
        "the SMS at the provider",
        lambda: [m["sid"] for m in _twilio_sent(fake) if m["Body"] == "Order ready"],
    )[0]
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert _callback(api.base_url, owner.tenant_id, "not-the-token", params) == 403
    assert _callback(api.base_url, owner.tenant_id, auth_token, params) == 200
    delivered = _until(
        "the receipt applied",
        lambda: [
            n
            for n in _history(api, owner, channel="sms", status="delivered")
            if n["notification_id"] == sent.json["notification_id"]
        ],
    )
    assert delivered[0]["hops"][0]["status"] == "delivered"

    # a scheduled announcement cancelled; one now to all pharmacists, once in each inbox
    body = {
        "audience": {"kind": "role", "roles": ["pharmacist"]},
        "channels": ["in_app"],
        "subject": "Stock take",
        "body": "Friday at 8",
    }
    scheduled = api.post(
        "/notifications/bulk", {**body, "send_at": "2030-01-01T08:00:00Z"}, token=owner.token
    )
    assert (scheduled.status, scheduled.json["status"]) == (202, "scheduled")
    cancelled = api.post(f"/notifications/scheduled/{scheduled.json['send_id']}/cancel", token=owner.token)
    assert (cancelled.status, cancelled.json["status"]) == (200, "cancelled")
    assert api.get("/notifications/scheduled", token=owner.token).json["items"] == []
    now = api.post("/notifications/bulk", {**body, "body": "Meeting at noon"}, token=owner.token)
    assert (now.status, now.json["status"]) == (202, "enqueued")
    for who in (pat, ph):
        inbox = _until(
            f"{who.email}'s inbox", lambda w=who: api.get("/notifications/inbox", token=w.token).json["items"]
        )
        assert [i["body"] for i in inbox] == ["Meeting at noon"]
    time.sleep(1.5)  # nothing more arrives
    for who in (pat, ph):
        assert api.get("/notifications/inbox", token=who.token).json["unread"] == 1
    assert api.get("/notifications/inbox", token=owner.token).json["items"] == []
