"""Notifications in tests: Twilio faked at its HTTP boundary (the real client, `responses`), the
whole pipeline drained (relay -> notifier -> batches -> mailer), signed status callbacks."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl

import responses

from tests.support.http import Api, Reply
from tests.support.pipeline import Pipeline
from tests.support.stack import PARAMETERS

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests-0001"
FROM_NUMBER = "+15005550006"
MOBILE = "+447911123456"  # a UK mobile number
LANDLINE = "+442071838750"  # a UK landline: Twilio answers 21614
INVALID = "+15005550001"  # Twilio's magic "invalid number": 21211
MESSAGES = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
ACCOUNT = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}.json"

ERRORS = {
    LANDLINE: (400, 21614, "'To' number is not a valid mobile number"),
    INVALID: (400, 21211, "The 'To' number is not a valid phone number."),
}


class FakeTwilio:
    """Twilio's REST API as the twilio client sees it; records what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.sids = (f"SM{n:032d}" for n in itertools.count(1))
        self.answer: tuple[int, int, str] | None = None  # force an error for every number

    def messages(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = dict(parse_qsl(request.body))
        to = form["To"].removeprefix("whatsapp:")
        error = self.answer or ERRORS.get(to)
        if error:
            status, code, message = error
            body = {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            }
            return status, {}, json.dumps(body)
        sid = next(self.sids)
        self.sent.append({**form, "sid": sid})
        body = {
            "sid": sid,
            "status": "queued",
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "account_sid": ACCOUNT_SID,
        }
        return 201, {}, json.dumps(body)


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, MESSAGES, callback=fake.messages)
        mock.add(responses.GET, ACCOUNT, json={"sid": ACCOUNT_SID, "status": "active"})
        yield fake


def drain(api: Api, pipeline: Pipeline | None = None) -> Pipeline:
    """Everything pending through every step until nothing moves."""
    p = pipeline or Pipeline(api.stack)
    for _ in range(20):
        records = p.stream_records()
        moved = len(records)
        if records:
            p.relay(records)
        for queue, code_uri in (
            ("MailQueue", "functions/workers/mailer/"),
            ("NotifyQueue", "functions/workers/notifier/"),
            ("NotifyBatchQueue", "functions/workers/notify_batches/"),
        ):
            while True:
                n, _ = p.work(queue, code_uri)
                moved += n
                if not n:
                    break
        if not moved:
            return p
    return p


def configure_sms(api: Api, token: str, **extra: Any) -> Reply:
    from tests.support import secrets_watch

    secrets_watch.register(AUTH_TOKEN)
    body = {
        "channel": "sms",
        "enabled": True,
        "settings": {"from_number": FROM_NUMBER},
        "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        **extra,
    }
    return api.call("PUT", "/notifications/channels", json_body=body, token=token)


def status_callback(
    api: Api, tenant_id: str, sid: str, status: str, *, token: str = AUTH_TOKEN, **more: str
) -> Reply:
    from twilio.request_validator import RequestValidator

    path, query = "/notifications/twilio/status", f"tenant={tenant_id}"
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID, **more}
    url = f"{PARAMETERS['PublicBaseUrl']}{path}?{query}"
    signature = RequestValidator(token).compute_signature(url, params)
    from urllib.parse import urlencode

    return api.call(
        "POST",
        path,
        query={"tenant": tenant_id},
        raw_body=urlencode(params),
        headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
    )


def seed(api: Api, admin: Any) -> dict[str, str]:
    """One of each notification thing in `admin`'s tenant (for the isolation matrices)."""
    from datetime import timedelta

    from keel.core import clock

    template = api.post(
        "/notifications/templates",
        {"name": "hello", "channel": "in_app", "body": "Hello {{ user.name }}"},
        token=admin.token,
    )
    assert template.status == 201, template.text
    rule = api.post(
        "/notifications/rules",
        {"name": "Welcome", "trigger": "user.created", "channels": ["in_app"], "template": "hello"},
        token=admin.token,
    )
    assert rule.status == 201, rule.text
    later = clock.iso(clock.now() + timedelta(days=1))
    send = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": ["in_app"], "body": "Closed on Monday", "send_at": later},
        token=admin.token,
    )
    assert send.status == 202, send.text
    one = api.post(
        "/notifications/send",
        {"user_id": admin.user_id, "channels": ["in_app"], "template": "hello"},
        token=admin.token,
    )
    assert one.status == 202, one.text
    return {
        "template_id": template.json["template_id"],
        "rule_id": rule.json["rule_id"],
        "send_id": send.json["send_id"],
        "notification_id": one.json["notification_id"],
    }
