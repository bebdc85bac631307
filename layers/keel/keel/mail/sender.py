"""Sending one e-mail through SES. Bodies are never logged."""

from __future__ import annotations

from dataclasses import dataclass

from keel.core import aws
from keel.core.config import settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


def send(mail: Mail) -> str:
    resp = aws.client("ses").send_email(
        Source=settings().mail_from,
        Destination={"ToAddresses": [mail.to]},
        Message={
            "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
        },
    )
    return str(resp["MessageId"])
