"""`python -m infra.gateway_events TYPE [--tenant T]`: send a correctly signed gateway test event to
the local stack, like `stripe trigger` (secrets and URLs from `.keel/dev.json`, written by make dev).

Types: payment_intent.succeeded, payment_intent.payment_failed, customer.subscription.updated,
checkout.session.completed, checkout.session.expired (Stripe); payment_success, payment_failed
(Nomba). The checkout types take `--session cs_...` (or `--hold hold_...`): the session is paid
(or expired) in the local fake Stripe and sent as Stripe sends it, so it names its own tenant and
hold. A subscription type sends the subscription the local fake Stripe holds under its id, first
put there on the professional price when it is not there yet (so a plan change can switch it).
`--times 5` sends the same event five times at once.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOMBA_TYPES = {"payment_success", "payment_failed"}
CHECKOUT_TYPES = {"checkout.session.completed", "checkout.session.expired"}


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def checkout_session(
    state: dict[str, Any], kind: str, session: str | None, hold: str | None
) -> dict[str, Any]:
    """The session in the local fake Stripe, paid (completed) or expired there first."""
    fake = state["fake_gateway_url"]
    if not session:
        if not hold:
            raise SystemExit(f"{kind} needs --session cs_... or --hold hold_...")
        _, raw = _http("GET", fake + "/_fake/state")
        found = [s for s in json.loads(raw)["checkout_sessions"] if s["metadata"].get("hold_id") == hold]
        if not found:
            raise SystemExit(f"no checkout session for hold {hold} in the local fake Stripe")
        session = str(found[-1]["id"])
    if kind.endswith("completed"):
        status, raw = _http("POST", f"{fake}/_fake/stripe/checkout/sessions/{session}/complete")
    else:
        status, raw = _http("POST", f"{fake}/v1/checkout/sessions/{session}/expire")
        if status == 400:  # already expired (or paid): send it as it is
            status, raw = _http("GET", f"{fake}/v1/checkout/sessions/{session}")
    if status != 200:
        raise SystemExit(f"the local fake Stripe answered {status}: {raw}")
    return dict(json.loads(raw))


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
    else:
        obj = {
            "id": obj_id or "sub_local",
            "object": "subscription",
            "status": "active",
            "cancel_at_period_end": False,
            "current_period_end": int(time.time()) + 30 * 86400,
            "metadata": {**meta, "plan_id": "professional"},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_" + secrets.token_hex(6),
                        "object": "subscription_item",
                        "price": {
                            "id": "price_professional",
                            "object": "price",
                            "lookup_key": "professional",
                        },
                    }
                ],
            },
        }
    return stripe_event(kind, event_id, obj)


def at_fake_stripe(state: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """A subscription event as the local fake Stripe holds its subscription (put there when new)."""
    obj = event["data"]["object"]
    fake = state.get("fake_gateway_url")
    if not fake or obj.get("object") != "subscription":
        return event
    status, raw = _http("GET", f"{fake}/v1/subscriptions/{obj['id']}")
    if status != 200:
        headers = {"Content-Type": "application/json"}
        status, raw = _http(
            "PUT", f"{fake}/_fake/stripe/subscriptions/{obj['id']}", json.dumps(obj).encode(), headers
        )
    return {**event, "data": {"object": json.loads(raw)}}


def stripe_event(kind: str, event_id: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def stripe_signed(state: dict[str, Any], event: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    raw = json.dumps(event)
    t = int(time.time())
    sig = hmac.new(state["stripe_webhook_secret"].encode(), f"{t}.{raw}".encode(), hashlib.sha256).hexdigest()
    return state["api_url"] + "/webhooks/stripe", raw.encode(), {"Stripe-Signature": f"t={t},v1={sig}"}


def nomba_signed(
    state: dict[str, Any],
    kind: str,
    tenant: str,
    amount: int,
    invoice: str | None,
    event_id: str,
    obj_id: str | None,
) -> tuple[str, bytes, dict[str, str]]:
    from keel.payments.signatures import nomba_sign

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "event_type": kind,
        "requestId": event_id,
        "data": {
            "merchant": {"userId": "local", "walletId": "local"},
            "transaction": {
                "transactionId": obj_id or "WEB-" + secrets.token_hex(6),
                "type": "online_checkout",
                "time": now,
                "responseCode": "" if kind == "payment_success" else "51",
            },
            "order": {
                "orderReference": invoice or "ord-" + secrets.token_hex(4),
                "amount": f"{amount / 100:.2f}",
                "currency": "NGN",
                "metadata": {"tenant_id": tenant},
            },
            "customer": {"email": "customer@example.com"},
        },
    }
    headers = {
        "nomba-signature": nomba_sign(body, now, state["nomba_signing_key"]),
        "nomba-timestamp": now,
        "nomba-signature-algorithm": "HmacSHA256",
        "nomba-signature-version": "1.0.0",
    }
    return state["api_url"] + "/webhooks/nomba", json.dumps(body).encode(), headers


def send(
    state: dict[str, Any],
    kind: str,
    *,
    tenant: str | None = None,
    amount: int = 5000,
    invoice: str | None = None,
    obj_id: str | None = None,
    event_id: str | None = None,
    session: str | None = None,
    hold: str | None = None,
    times: int = 1,
) -> tuple[str, list[tuple[int, str]]]:
    """Builds and signs one event, sends it `times` times at once; its id and each (status, body)."""
    event_id = event_id or "evt_" + secrets.token_hex(8)
    if kind in CHECKOUT_TYPES:
        url, raw, headers = stripe_signed(
            state, stripe_event(kind, event_id, checkout_session(state, kind, session, hold))
        )
    elif not tenant:
        raise SystemExit(f"{kind} needs --tenant <tenant_id>")
    elif kind in NOMBA_TYPES:
        url, raw, headers = nomba_signed(state, kind, tenant, amount, invoice, event_id, obj_id)
    else:
        url, raw, headers = stripe_signed(
            state, at_fake_stripe(state, stripe_payload(kind, tenant, amount, invoice, event_id, obj_id))
        )
    headers = {"Content-Type": "application/json", **headers}
    with ThreadPoolExecutor(max(1, times)) as pool:
        replies = list(pool.map(lambda _: _http("POST", url, raw, headers), range(times)))
    return event_id, replies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.gateway_events", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("type")
    parser.add_argument("--tenant", help="tenant_id the event is for (metadata.tenant_id)")
    parser.add_argument("--amount", type=int, default=5000, help="minor units")
    parser.add_argument("--invoice")
    parser.add_argument("--id", help="object id (payment intent, subscription...)")
    parser.add_argument("--event-id", help="event id / requestId (reuse it to send a duplicate)")
    parser.add_argument("--session", help="checkout types: the Checkout Session id (cs_...)")
    parser.add_argument("--hold", help="checkout types: the hold id, instead of --session")
    parser.add_argument("--times", type=int, default=1, help="send the same event this many times at once")
    parser.add_argument("--state-file", type=Path, default=ROOT / ".keel" / "dev.json")
    args = parser.parse_args(argv)
    state = json.loads(args.state_file.read_text())
    event_id, replies = send(
        state,
        args.type,
        tenant=args.tenant,
        amount=args.amount,
        invoice=args.invoice,
        obj_id=args.id,
        event_id=args.event_id,
        session=args.session,
        hold=args.hold,
        times=args.times,
    )
    for status, body in replies:
        print(status, body)
    print(f"event {event_id}", file=sys.stderr)
    return 0 if all(200 <= status < 300 for status, _ in replies) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "layers" / "keel"))
    sys.exit(main())
