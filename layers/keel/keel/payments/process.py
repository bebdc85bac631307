"""Applying a stored gateway event (the gateway-events worker): each event id exactly once.

The worker claims the event id with a conditional write before dispatching: of five deliveries
of one event (five receipts) processed at once, one wins and the others are recorded as
duplicates. A handler that fails releases the claim and the message is retried (then DLQ).
Handlers are themselves version-checked, so a retry after a crash past their commit is harmless.
The stored body has no personal data; the values a handler reads are put back from those held
with the receipt (`redaction`), which go once it is processed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from keel.payments import gateway_handlers, redaction, repo
from keel.payments.handlers import Ignored

LEASE_SECONDS = 120


def _parse(gateway: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The event's object and its own time (epoch seconds)."""
    if gateway == "stripe":
        return dict((body.get("data") or {}).get("object") or {}), int(body.get("created") or 0)
    data = dict(body.get("data") or {})
    when = str((data.get("transaction") or {}).get("time") or "")
    try:
        created = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp())
    except ValueError:
        created = 0
    return data, created


def apply(receipt_id: str, *, reprocess: bool = False) -> str:
    """What became of the receipt: applied, duplicate, ignored (or raises: failed, to retry)."""
    receipt, held = repo.receipt_to_apply(receipt_id)
    if receipt.verification != "verified" or not receipt.event_id or not receipt.event_type:
        return "rejected"
    obj, created = _parse(receipt.gateway, redaction.restored(json.loads(receipt.body), held))
    tenant_id = (
        str((obj.get("metadata") or (obj.get("order") or {}).get("metadata") or {}).get("tenant_id") or "")
        or None
    )
    if not reprocess:
        holder = repo.claim(receipt.gateway, receipt.event_id, receipt_id, LEASE_SECONDS)
        if holder is not None:
            repo.set_receipt_result(receipt_id, "duplicate", f"event applied by {holder}", tenant_id)
            return "duplicate"
    try:
        handled = gateway_handlers.dispatch(
            receipt.gateway, receipt.event_type, receipt.event_id, obj, created
        )
    except Ignored as why:
        repo.finish_claim(receipt.gateway, receipt.event_id)
        repo.set_receipt_result(receipt_id, "ignored", str(why), None)
        return "ignored"
    except Exception as exc:
        if not reprocess:
            repo.release_claim(receipt.gateway, receipt.event_id, receipt_id)
        repo.set_receipt_result(receipt_id, "failed", f"{type(exc).__name__}: {str(exc)[:300]}", tenant_id)
        raise
    repo.finish_claim(receipt.gateway, receipt.event_id)
    if not handled:
        repo.set_receipt_result(receipt_id, "ignored", f"no handler for {receipt.event_type}", tenant_id)
        return "ignored"
    repo.set_receipt_result(receipt_id, "applied", None, tenant_id)
    return "applied"
