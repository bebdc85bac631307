"""`python -m infra.gateway_events TYPE --tenant T`: send a correctly signed gateway test event to
the local stack, like `stripe trigger` (secrets and URL from `.keel/dev.json`, written by make dev).

Types: payment_intent.succeeded, payment_intent.payment_failed, checkout.session.completed,
customer.subscription.updated (Stripe); payment_success, payment_failed (Nomba).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOMBA_TYPES = {"payment_success", "payment_failed"}


def stripe_payload(
    kind: str, tenant: str, amount: int, invoice: str | None, event_id: str, obj_id: str | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"tenant_id": tenant, **({"invoice_id": invoice} if invoice else {})}
    if kind.startswith("payment_intent."):
        obj: dict[str, Any] = {
            "id": obj_id or "pi_" + secrets.token_hex(8),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount if kind.endswith("succeeded") else 0,
            "currency": "usd",
            "receipt_email": "customer@example.com",
            "metadata": meta,
        }
        if kind.endswith("failed"):
            obj["last_payment_error"] = {
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
            }
    elif kind.startswith("checkout.session."):
        obj = {
            "id": obj_id or "cs_" + secrets.token_hex(8),
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": amount,
            "currency": "usd",
            "metadata": meta,
        }
    else:
        obj = {
            "id": obj_id or "sub_local",
            "object": "subscription",
            "status": "active",
            "cancel_at_period_end": False,
            "current_period_end": int(time.time()) + 30 * 86400,
            "metadata": {**meta, "plan_id": "professional"},
        }
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.gateway_events", description=__doc__.splitlines()[0]
    )
    parser.add_argument("type")
    parser.add_argument("--tenant", required=True, help="tenant_id the event is for (metadata.tenant_id)")
    parser.add_argument("--amount", type=int, default=5000, help="minor units")
    parser.add_argument("--invoice")
    parser.add_argument("--id", help="object id (payment intent, subscription...)")
    parser.add_argument("--event-id", help="event id / requestId (reuse it to send a duplicate)")
    parser.add_argument("--times", type=int, default=1, help="send the same event this many times")
    parser.add_argument("--state-file", type=Path, default=ROOT / ".keel" / "dev.json")
    args = parser.parse_args(argv)
    state = json.loads(args.state_file.read_text())
    event_id = args.event_id or "evt_" + secrets.token_hex(8)
    if args.type in NOMBA_TYPES:
        from keel.payments.signatures import nomba_sign

        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "event_type": args.type,
            "requestId": event_id,
            "data": {
                "merchant": {"userId": "local", "walletId": "local"},
                "transaction": {
                    "transactionId": args.id or "WEB-" + secrets.token_hex(6),
                    "type": "online_checkout",
                    "time": now,
                    "responseCode": "" if args.type == "payment_success" else "51",
                },
                "order": {
                    "orderReference": args.invoice or "ord-" + secrets.token_hex(4),
                    "amount": f"{args.amount / 100:.2f}",
                    "currency": "NGN",
                    "metadata": {"tenant_id": args.tenant},
                },
                "customer": {"email": "customer@example.com"},
            },
        }
        raw = json.dumps(body)
        headers = {
            "nomba-signature": nomba_sign(body, now, state["nomba_signing_key"]),
            "nomba-timestamp": now,
            "nomba-signature-algorithm": "HmacSHA256",
            "nomba-signature-version": "1.0.0",
        }
        url = state["api_url"] + "/webhooks/nomba"
    else:
        raw = json.dumps(stripe_payload(args.type, args.tenant, args.amount, args.invoice, event_id, args.id))
        t = int(time.time())
        sig = hmac.new(
            state["stripe_webhook_secret"].encode(), f"{t}.{raw}".encode(), hashlib.sha256
        ).hexdigest()
        headers = {"Stripe-Signature": f"t={t},v1={sig}"}
        url = state["api_url"] + "/webhooks/stripe"
    for _ in range(args.times):
        request = urllib.request.Request(
            url, data=raw.encode(), headers={"Content-Type": "application/json", **headers}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            print(resp.status, resp.read().decode())
    print(f"event {event_id}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "layers" / "keel"))
    sys.exit(main())
