"""Sending one e-mail through SES (system mail and notifications alike). Bodies are never logged."""

from __future__ import annotations

import os
from dataclasses import dataclass

from keel.core import aws
from keel.core.config import settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None  # notifications (issue 10): rendered, escaped templates
    source: str | None = None  # a tenant's verified sender; else MAIL_FROM
    feedback: bool = False  # notifications: through the configuration set whose events reach SES feedback


def send(mail: Mail) -> str:
    body = {"Text": {"Data": mail.text, "Charset": "UTF-8"}}
    if mail.html is not None:
        body["Html"] = {"Data": mail.html, "Charset": "UTF-8"}
    extra = {}
    configuration_set = os.environ.get("SES_CONFIGURATION_SET")  # set on the notification senders
    if mail.feedback and configuration_set:
        extra["ConfigurationSetName"] = configuration_set
    resp = aws.client("ses").send_email(
        Source=mail.source or settings().mail_from,
        Destination={"ToAddresses": [mail.to]},
        Message={"Subject": {"Data": mail.subject, "Charset": "UTF-8"}, "Body": body},
        **extra,
    )
    return str(resp["MessageId"])
