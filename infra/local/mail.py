"""The mail and push consoles: every e-mail sent through moto's SES, and every push message
published to an SNS mobile endpoint, printed as it is sent (SMS and WhatsApp: infra/local/fake_twilio.py).

moto runs in this process, so its SES backend is read directly. The same messages are at
`GET <moto url>/moto-api/data.json` (under "ses" -> "Message").
"""

from __future__ import annotations

import email
import json
import threading
from email.message import Message
from typing import Any

from infra.local import console
from infra.local.template import ACCOUNT_ID, REGION

POLL_SECONDS = 0.5


def _text_of(raw: str) -> tuple[str, str]:
    parsed: Message = email.message_from_string(raw)
    body = ""
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                body = payload.decode(part.get_content_charset() or "utf-8", "replace")
                break
    return str(parsed.get("Subject", "")), body


def describe(message: Any) -> dict[str, Any]:
    """To, subject and body of a moto SES sent message (plain, raw or templated)."""
    destinations = getattr(message, "destinations", {})
    if isinstance(destinations, dict):
        to = [*destinations.get("ToAddresses", []), *destinations.get("CcAddresses", [])]
    else:
        to = list(destinations or [])
    if hasattr(message, "raw_data"):
        subject, body = _text_of(message.raw_data)
    elif hasattr(message, "template"):
        subject, body = f"(template {message.template})", str(message.template_data)
    else:
        subject, body = str(getattr(message, "subject", "")), str(getattr(message, "body", ""))
    return {"from": getattr(message, "source", ""), "to": to, "subject": subject, "body": body}


class MailConsole(threading.Thread):
    def __init__(self, stop: threading.Event, account_id: str = ACCOUNT_ID, region: str = REGION) -> None:
        super().__init__(name="mail-console", daemon=True)
        self.stop = stop
        self.account_id = account_id
        self.region = region
        self.seen = 0

    def run(self) -> None:
        from moto.ses.models import ses_backends

        while not self.stop.wait(POLL_SECONDS):
            sent = ses_backends[self.account_id][self.region].sent_messages
            new = sent[self.seen :]
            self.seen += len(new)
            for message in new:
                self.show(describe(message))

    @staticmethod
    def show(mail: dict[str, Any]) -> None:
        body = "\n".join(f"         | {line}" for line in mail["body"].splitlines())
        console.line("mail", f"to {', '.join(mail['to'])} from {mail['from']}: {mail['subject']}\n{body}")


class PushConsole(threading.Thread):
    """Every push message published to an SNS mobile endpoint (moto), printed as it is sent."""

    def __init__(self, stop: threading.Event, account_id: str = ACCOUNT_ID, region: str = REGION) -> None:
        super().__init__(name="push-console", daemon=True)
        self.stop = stop
        self.account_id = account_id
        self.region = region
        self.seen: set[str] = set()

    def run(self) -> None:
        from moto.sns.models import sns_backends

        while not self.stop.wait(POLL_SECONDS):
            endpoints = list(sns_backends[self.account_id][self.region].platform_endpoints.values())
            for endpoint in endpoints:
                for message_id, message in list(endpoint.messages.items()):
                    if message_id not in self.seen:
                        self.seen.add(message_id)
                        self.show(endpoint.token, message)

    @staticmethod
    def show(token: str, message: str) -> None:
        try:
            text = str(json.loads(message).get("default", message))
        except (ValueError, AttributeError):
            text = message
        body = "\n".join(f"         | {line}" for line in text.splitlines())
        console.line("push", f"to device {token[:12]}…\n{body}")
