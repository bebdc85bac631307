"""SMS through Twilio (imported only here), numbers in E.164 through `phonenumbers`.

Credentials come from the app secret: twilio_account_sid, twilio_auth_token, twilio_from_number.
Message bodies and full numbers are never logged.
"""

from __future__ import annotations

from keel.core.errors import ErrorCode, KeelError, invalid
from keel.core.observability import logger
from keel.core.secrets import app_secret


def normalise(phone: str, field: str = "phone") -> str:
    """E.164 (`+` and up to 15 digits) or 422 naming the field."""
    import phonenumbers  # heavy: loaded by the calls that need it

    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException as exc:
        raise invalid(field, "Phone number must be in international format, e.g. +14155550100") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise invalid(field, "Phone number is not valid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def masked(phone: str) -> str:
    return f"{phone[:3]}{'*' * max(0, len(phone) - 5)}{phone[-2:]}"


def send(to: str, body: str) -> str:
    """Sends one SMS; returns Twilio's message sid. Provider failures answer 502 SAAS_007."""
    secret = app_secret()
    sid, token, sender = (
        secret.get("twilio_account_sid"),
        secret.get("twilio_auth_token"),
        secret.get("twilio_from_number"),
    )
    if not (sid and token and sender):
        raise KeelError(ErrorCode.SAAS_007, "SMS is not configured")
    from twilio.base.exceptions import TwilioException, TwilioRestException
    from twilio.rest import Client

    try:
        message = Client(sid, token).messages.create(to=to, from_=sender, body=body)
    except TwilioRestException as exc:
        logger.warning("sms refused by provider", extra={"twilio_code": exc.code, "status": exc.status})
        raise KeelError(ErrorCode.SAAS_007, "The SMS provider refused the message") from exc
    except TwilioException as exc:
        logger.warning("sms provider unreachable", extra={"error_type": type(exc).__name__})
        raise KeelError(ErrorCode.SAAS_007, "The SMS provider is unreachable") from exc
    logger.info("sms sent", extra={"to": masked(to), "sid": message.sid})
    return str(message.sid)
