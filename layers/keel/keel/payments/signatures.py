"""Webhook signatures, checked on the raw body before anything else reads it.

Stripe: `stripe.Webhook.construct_event` (HMAC-SHA256 of `t.body`, any v1 of several passes,
300 s tolerance), and a timestamp more than 300 s in the future is refused too. Nomba: base64
HMAC-SHA256 over its colon-joined field string (see the shared protocol facts), with the same
window on `nomba-timestamp`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError

TOLERANCE_SECONDS = 300


def _malformed(message: str) -> KeelError:
    return KeelError(ErrorCode.SAAS_050, message, details=[{"field": "signature", "message": message}])


def _invalid(message: str) -> KeelError:
    return KeelError(ErrorCode.SAAS_051, message, details=[{"field": "signature", "message": message}])


def stripe_event(raw: bytes, header: str | None, secret: str) -> dict[str, Any]:
    """The verified Stripe event, or SAAS_050 (missing/malformed) / SAAS_051 (wrong, stale, future)."""
    if not header:
        raise _malformed("Missing Stripe-Signature header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or not parts["t"].strip().isdigit() or "v1=" not in header:
        raise _malformed("Malformed Stripe-Signature header")
    if int(parts["t"]) > clock.epoch() + TOLERANCE_SECONDS:
        raise _invalid("Signature timestamp is in the future")
    if not secret:
        raise _invalid("No Stripe webhook secret is configured")
    import stripe

    try:
        event = stripe.Webhook.construct_event(raw, header, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise _invalid(str(exc.user_message or "Signature does not match")[:200]) from exc
    except ValueError as exc:  # a body that is not JSON, though signed
        raise _malformed("Body is not a JSON event") from exc
    data: dict[str, Any] = event.to_dict()
    return data


def nomba_string(body: dict[str, Any], timestamp: str) -> str:
    data = body.get("data") or {}
    merchant, txn = data.get("merchant") or {}, data.get("transaction") or {}
    code = txn.get("responseCode")
    fields = [
        body.get("event_type"),
        body.get("requestId"),
        merchant.get("userId"),
        merchant.get("walletId"),
        txn.get("transactionId"),
        txn.get("type"),
        txn.get("time"),
        "" if code in (None, "null") else code,
        timestamp,
    ]
    return ":".join("" if f is None else str(f) for f in fields)


def nomba_sign(body: dict[str, Any], timestamp: str, key: str) -> str:
    digest = hmac.new(key.encode(), nomba_string(body, timestamp).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def nomba_event(raw: bytes, headers: dict[str, str], key: str) -> dict[str, Any]:
    signature = headers.get("nomba-signature") or headers.get("nomba-sig-value")
    timestamp = headers.get("nomba-timestamp")
    if not signature or not timestamp:
        raise _malformed("Missing nomba-signature or nomba-timestamp header")
    try:
        sent_at = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise _malformed("Malformed nomba-timestamp or body") from exc
    if sent_at.tzinfo is None:
        raise _malformed("nomba-timestamp has no time zone")
    age = clock.now().timestamp() - sent_at.timestamp()
    if age > TOLERANCE_SECONDS:
        raise _invalid("Signature timestamp is too old")
    if age < -TOLERANCE_SECONDS:
        raise _invalid("Signature timestamp is in the future")
    if not key:
        raise _invalid("No Nomba signing key is configured")
    if not hmac.compare_digest(nomba_sign(body, timestamp, key), signature.strip()):
        raise _invalid("Signature does not match")
    return body
