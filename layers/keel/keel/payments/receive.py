"""Receiving a gateway's webhook: verify the raw body, store the delivery, queue it; answer fast.

Every delivery is stored (`GatewayEvent`), valid or not: headers without credentials, the body
without card details or the buyer's personal data (`redaction`), source IP, the verification
result; a verified one is stored with a `gateway.event_received` outbox event in one
transaction, so it reaches the gateway-events worker (SNS -> SQS) even if this function stops
right after answering.
"""

from __future__ import annotations

from typing import Literal

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal
from keel.core.secrets import app_secret
from keel.payments import redaction, repo, signatures
from keel.payments.models import GatewayEvent, Received
from keel.store.change import Change

SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}


def receive(
    gateway: Literal["stripe", "nomba"], raw: bytes, headers: dict[str, str], source_ip: str | None
) -> Received:
    headers = {k.lower(): v for k, v in headers.items()}
    stored_body, held = redaction.stored(gateway, raw)
    receipt = GatewayEvent(
        receipt_id=ids.new_id("gwe"),
        gateway=gateway,
        received_at=clock.iso(),
        source_ip=source_ip,
        headers={k: v[:500] for k, v in headers.items() if k not in SECRET_HEADERS},
        body=stored_body,
        verification="verified",
        processing="pending",
    )
    change = Change(Principal.system(job=f"{gateway}_webhook"))
    try:
        secret = app_secret()
        if gateway == "stripe":
            event = signatures.stripe_event(
                raw, headers.get("stripe-signature"), str(secret.get("stripe_webhook_secret") or "")
            )
            event_id, event_type = event.get("id"), event.get("type")
        else:
            body = signatures.nomba_event(raw, headers, str(secret.get("nomba_signing_key") or ""))
            event_id, event_type = body.get("requestId"), body.get("event_type")
        if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
            raise KeelError(
                ErrorCode.SAAS_050,
                "The event has no id or type",
                details=[{"field": "body", "message": "an event id and type are required"}],
            )
    except KeelError as err:
        rejected = receipt.model_copy(
            update={"verification": "rejected", "verification_error": err.message, "processing": "rejected"}
        )
        repo.add_receipt(change.tx, rejected)
        change.commit()
        raise
    receipt = receipt.model_copy(update={"event_id": event_id[:200], "event_type": event_type[:200]})
    repo.add_receipt(change.tx, receipt, held=held)
    change.emit("gateway.event_received", {"receipt_id": receipt.receipt_id, "gateway": gateway})
    change.commit()
    return Received(receipt_id=receipt.receipt_id)
