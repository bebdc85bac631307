"""Sending one message through a channel's provider, and what its answer means.

E-mail: SES (the mailer's sender). SMS and WhatsApp: Twilio through its own client (imported
here only). Push: SNS mobile push. In-app is the inbox, written by the delivery itself.
A provider's answer is `Outcome`: sent, a permanent failure (the next channel is tried) or a
transient one (the message is retried with backoff, then the DLQ). Bodies and full addresses
are never logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from keel.core import aws
from keel.core.config import settings
from keel.core.observability import logger

# Twilio's error codes the guides name, in plain words (facts.md).
TWILIO_ADVICE: dict[int, tuple[str, bool]] = {  # code -> (advice, permanent)
    21211: (
        "The number is not a valid phone number: check it is in E.164 form (+, country code, number).",
        True,
    ),
    21614: (
        "The number is not a mobile number (a landline?): it cannot receive SMS; use another channel.",
        True,
    ),
    21606: (
        "Your Twilio 'from' number cannot send to this destination: use an SMS-capable number or a "
        "Messaging Service enabled for the country.",
        True,
    ),
    20003: ("Twilio refused the credentials: check the Account SID and Auth Token of the channel.", True),
    20429: ("Twilio is rate limiting this account: the message will be retried.", False),
}
RATE_LIMITED = "Twilio is rate limiting this account (HTTP 429): the message will be retried."


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: str  # sent | delivered | failed
    provider_id: str | None = None
    code: str | None = None
    advice: str | None = None
    permanent: bool = True


def _twilio_client(credentials: dict[str, str]) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    base = os.environ.get("TWILIO_API_BASE")  # the local stack's fake Twilio; unset in AWS

    class Http(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if base:
                url = url.replace("https://api.twilio.com", base.rstrip("/"))
            return super().request(method, url, *args, **kwargs)

    return Client(credentials.get("account_sid"), credentials.get("auth_token"), http_client=Http(timeout=10))


def twilio_outcome(exc: Exception) -> Outcome:
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        code = int(exc.code or 0)
        if exc.status == 429 and code not in TWILIO_ADVICE:
            return Outcome(False, "failed", code=str(code or 429), advice=RATE_LIMITED, permanent=False)
        advice, permanent = TWILIO_ADVICE.get(
            code, (f"Twilio refused the message (error {code}).", exc.status < 500)
        )
        logger.warning("twilio refused", extra={"twilio_code": code, "status": exc.status})
        return Outcome(False, "failed", code=str(code), advice=advice, permanent=permanent)
    logger.warning("twilio unreachable", extra={"error_type": type(exc).__name__})
    return Outcome(
        False, "failed", code="unreachable", advice="Twilio did not answer: retried later.", permanent=False
    )


def send_twilio(
    credentials: dict[str, str], sender: str, to: str, body: str, *, whatsapp: bool, callback: str | None
) -> Outcome:
    from twilio.base.exceptions import TwilioException

    if not (credentials.get("account_sid") and credentials.get("auth_token") and sender):
        return Outcome(
            False, "failed", code="not_configured", advice="Set the channel's credentials and from number."
        )
    prefix = "whatsapp:" if whatsapp else ""
    kwargs: dict[str, Any] = {"to": prefix + to, "from_": prefix + sender, "body": body}
    if callback:
        kwargs["status_callback"] = callback
    try:
        message = _twilio_client(credentials).messages.create(**kwargs)
    except (TwilioException, OSError) as exc:
        return twilio_outcome(exc)
    return Outcome(True, "sent", provider_id=str(message.sid))


def twilio_reachable(credentials: dict[str, str]) -> bool:
    from twilio.base.exceptions import TwilioException

    if not credentials.get("account_sid"):
        return False
    try:
        _twilio_client(credentials).api.v2010.accounts(credentials["account_sid"]).fetch()
    except (TwilioException, OSError):
        return False
    return True


def send_email(to: str, subject: str, text: str, html: str | None, sender: str | None) -> Outcome:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from keel.core.ses import Mail, send

    try:
        message_id = send(Mail(to=to, subject=subject, text=text, html=html, source=sender, feedback=True))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        permanent = code in {"MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue"}
        logger.warning("ses refused", extra={"ses_code": code})
        return Outcome(False, "failed", code=code, advice="SES refused the message.", permanent=permanent)
    except EndpointConnectionError:
        return Outcome(False, "failed", code="unreachable", advice="SES did not answer.", permanent=False)
    return Outcome(True, "sent", provider_id=message_id)


def ses_reachable() -> bool:
    try:
        aws.client("ses").get_send_quota()
    except Exception:
        return False
    return True


def send_push(platform_arn: str | None, tokens: list[str], subject: str | None, body: str) -> Outcome:
    """To each of the user's devices; no token (or no platform) is a permanent failure."""
    import json

    from botocore.exceptions import ClientError

    if not tokens:
        return Outcome(False, "failed", code="no_push_token", advice="The user has no registered device.")
    if not platform_arn:
        return Outcome(
            False, "failed", code="not_configured", advice="Set the push platform application ARN."
        )
    sns = aws.client("sns")
    sent: list[str] = []
    for token in tokens:
        try:
            endpoint = sns.create_platform_endpoint(PlatformApplicationArn=platform_arn, Token=token)[
                "EndpointArn"
            ]
            message = json.dumps(
                {"default": body, "GCM": json.dumps({"notification": {"title": subject or "", "body": body}})}
            )
            sent.append(
                sns.publish(TargetArn=endpoint, Message=message, MessageStructure="json")["MessageId"]
            )
        except ClientError as exc:
            logger.warning("push refused", extra={"sns_code": exc.response["Error"]["Code"]})
    if not sent:
        return Outcome(False, "failed", code="push_refused", advice="No device accepted the message.")
    return Outcome(True, "sent", provider_id=sent[0])


def push_reachable(platform_arn: str | None) -> bool:
    if not platform_arn:
        return False
    try:
        aws.client("sns").get_platform_application_attributes(PlatformApplicationArn=platform_arn)
    except Exception:
        return False
    return True


def status_callback_url(tenant_id: str) -> str:
    return f"{settings().public_base_url.rstrip('/')}/notifications/twilio/status?tenant={tenant_id}"
