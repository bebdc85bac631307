"""Delivery receipts: Twilio's status callbacks, signature-checked, applied once and never backwards.

The callback URL we give Twilio names the tenant (`?tenant=`); its signature (`X-Twilio-Signature`,
HMAC-SHA1 of that exact URL and the form parameters with the tenant's auth token) is checked with
Twilio's `RequestValidator` before anything else is read or written. A `failed` / `undelivered`
receipt on the notification's current channel re-queues it, so the next channel is tried.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.notifications import repo, secrets
from keel.notifications.models import RANK, Status
from keel.store.change import Change

TWILIO_STATUS = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
}
REFUSED = KeelError(ErrorCode.SAAS_005, "Invalid Twilio signature")


def callback_url(raw_path: str, raw_query: str) -> str:
    """The URL Twilio signed: the one we gave it (PUBLIC_BASE_URL + path + query)."""
    return settings().public_base_url.rstrip("/") + raw_path + (f"?{raw_query}" if raw_query else "")


def twilio_status(raw_path: str, raw_query: str, body: str, signature: str | None) -> dict[str, Any]:
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    params = dict(parse_qsl(body, keep_blank_values=True))
    tenant_id = query.get("tenant", "")
    credentials = secrets.read(tenant_id, "sms") if tenant_id and len(tenant_id) <= 64 else {}
    token = credentials.get("auth_token")
    if not token or not signature:
        raise REFUSED
    from twilio.request_validator import RequestValidator

    if not RequestValidator(token).validate(callback_url(raw_path, raw_query), params, signature):
        raise REFUSED
    sid, status = (
        params.get("MessageSid") or params.get("SmsSid"),
        params.get("MessageStatus") or params.get("SmsStatus"),
    )
    mapped = TWILIO_STATUS.get(status or "")
    pointer = repo.pointed("twilio", sid) if sid else None
    if pointer is None or pointer["tenant_id"] != tenant_id or mapped is None:
        return {"applied": False}
    extra = {"error": f"twilio {params['ErrorCode']}"} if params.get("ErrorCode") else {}
    store = repo.for_tenant(tenant_id)
    applied = store.receipt(pointer["notification_id"], pointer["channel"], mapped.value, RANK[mapped], extra)
    logger.info("twilio receipt", extra={"sid": sid, "status": mapped.value, "applied": applied})
    if applied and mapped in {Status.FAILED, Status.UNDELIVERED}:
        _fall_back(tenant_id, pointer["notification_id"], pointer["channel"])
    return {"applied": applied}


def _fall_back(tenant_id: str, notification_id: str, channel: str) -> None:
    store = repo.for_tenant(tenant_id)
    item = store.notification(notification_id, consistent=True)
    channels = item["channels"]
    if item.get("current_channel") != channel or channels.index(channel) == len(channels) - 1:
        return
    change = Change(Principal.system(tenant_id, "notification-receipts"))
    store.requeue(change.tx, notification_id)
    change.emit(
        "notification.queued",
        {"tenant_id": tenant_id, "notification_id": notification_id},
        tenant_id=tenant_id,
    )
    try:
        change.commit()
    except KeelError:
        return  # already re-queued or delivered through another channel


# SES feedback ---------------------------------------------------------------------------------

SES_STATUS = {"Bounce": Status.BOUNCED, "Complaint": Status.BOUNCED, "Delivery": Status.DELIVERED}


def _ses_addresses(feedback: dict[str, Any], kind: str) -> list[str]:
    if kind == "Bounce":
        recipients = feedback.get("bounce", {}).get("bouncedRecipients", [])
    elif kind == "Complaint":
        recipients = feedback.get("complaint", {}).get("complainedRecipients", [])
    else:
        return []
    return [str(r["emailAddress"]).lower() for r in recipients if r.get("emailAddress")]


def ses_feedback(feedback: dict[str, Any]) -> dict[str, Any]:
    """One SES notification (identity notifications' `notificationType` or a configuration set's
    `eventType`): a permanent bounce or a complaint marks the e-mail hop bounced and suppresses the
    address for the tenant (the next channel is tried after a bounce); a delivery marks it delivered.
    Transient bounces change nothing (SES retries them). Applied once, never backwards."""
    kind = str(feedback.get("notificationType") or feedback.get("eventType") or "")
    message_id = str(feedback.get("mail", {}).get("messageId") or "")
    mapped = SES_STATUS.get(kind)
    bounce = feedback.get("bounce", {})
    if mapped is None or (kind == "Bounce" and bounce.get("bounceType") == "Transient"):
        logger.info("ses feedback ignored", extra={"kind": kind, "bounce_type": bounce.get("bounceType")})
        return {"applied": False}
    pointer = repo.pointed("ses", message_id) if message_id else None
    if pointer is None:
        logger.info("ses feedback for a message we did not send as a notification", extra={"kind": kind})
        return {"applied": False}
    tenant_id = pointer["tenant_id"]
    store = repo.for_tenant(tenant_id)
    for address in _ses_addresses(feedback, kind):
        store.suppress(address, kind.lower())
    if kind == "Bounce":
        error = f"ses bounce {bounce.get('bounceType', '')}/{bounce.get('bounceSubType', '')}"
    elif kind == "Complaint":
        error = f"ses complaint {feedback.get('complaint', {}).get('complaintFeedbackType', '')}".rstrip()
    else:
        error = ""
    extra = {"error": error} if error else {}
    applied = store.receipt(pointer["notification_id"], pointer["channel"], mapped.value, RANK[mapped], extra)
    logger.info("ses feedback", extra={"kind": kind, "status": mapped.value, "applied": applied})
    if applied and kind == "Bounce":
        _fall_back(tenant_id, pointer["notification_id"], pointer["channel"])
    return {"applied": applied}
