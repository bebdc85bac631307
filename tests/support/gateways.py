"""Gateways for the payments tests: the fake HTTP APIs, the app secret pointing at them, and
events signed exactly as Stripe and Nomba sign them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from infra.local.fake_gateways import FakeGateways
from keel.core import aws
from keel.payments.signatures import nomba_sign
from tests.support.http import Api, Reply
from tests.support.pipeline import Pipeline
from tests.support.stack import Stack

WHSEC = "whsec_test_0123456789abcdef"
NOMBA_KEY = "nomba-signing-key-for-tests"


def configure(stack: Stack, fake: FakeGateways) -> None:
    sm = stack.client("secretsmanager")
    arn = next(s["ARN"] for s in sm.list_secrets()["SecretList"])
    secret = json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
    secret.update(
        stripe_api_key="sk_test_fake",
        stripe_webhook_secret=WHSEC,
        stripe_api_base=fake.url,
        nomba_signing_key=NOMBA_KEY,
        nomba_client_id="client",
        nomba_client_secret="client-secret",
        nomba_account_id="acct",
        nomba_api_base=fake.url,
    )
    sm.put_secret_value(SecretId=arn, SecretString=json.dumps(secret))
    aws.reset()


def stripe_header(payload: str, secret: str = WHSEC, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    sig = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def stripe_event(event_id: str, event_type: str, obj: dict[str, Any], created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created or int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    )


def intent(
    pi: str, tenant_id: str, amount: int = 5000, invoice_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    metadata = {"tenant_id": tenant_id, **({"invoice_id": invoice_id} if invoice_id else {})}
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "usd",
        "receipt_email": "patient@example.com",
        "metadata": metadata,
        **extra,
    }


def subscription(
    sid: str, tenant_id: str, price_plan: str | None, *, metadata_plan: str = "professional", **extra: Any
) -> dict[str, Any]:
    """A Stripe subscription as the API returns it: its item's price names the plan it charges for
    (`lookup_key`); `metadata.plan_id` is what it was created with."""
    price = {"id": f"price_{price_plan}", "object": "price", "lookup_key": price_plan, "metadata": {}}
    return {
        "id": sid,
        "object": "subscription",
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_end": 1900000000,
        "metadata": {"tenant_id": tenant_id, "plan_id": metadata_plan},
        "items": {
            "object": "list",
            "data": [{"id": f"si_{sid}", "object": "subscription_item", "price": price}],
        },
        **extra,
    }


def send_stripe(api: Api, payload: str, header: str | None = None) -> Reply:
    headers = {"stripe-signature": header if header is not None else stripe_header(payload)}
    if header == "":
        headers = {}
    return api.call("POST", "/webhooks/stripe", raw_body=payload, headers=headers)


def nomba_body(
    request_id: str, tenant_id: str, amount: str = "1500.00", event_type: str = "payment_success"
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "requestId": request_id,
        "data": {
            "merchant": {"userId": "u-1", "walletId": "w-1", "walletBalance": 0},
            "transaction": {
                "transactionId": f"WEB-{request_id}",
                "type": "online_checkout",
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "responseCode": None if event_type == "payment_success" else "51",
                "transactionAmount": float(amount),
            },
            "order": {
                "orderReference": f"ord-{request_id}",
                "amount": amount,
                "currency": "NGN",
                "metadata": {"tenant_id": tenant_id},
            },
            "customer": {"email": "buyer@example.com"},
        },
    }


def send_nomba(api: Api, body: dict[str, Any], key: str = NOMBA_KEY, timestamp: str | None = None) -> Reply:
    ts = timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "nomba-signature": nomba_sign(body, ts, key),
        "nomba-timestamp": ts,
        "nomba-signature-algorithm": "HmacSHA256",
        "nomba-signature-version": "1.0.0",
    }
    return api.call("POST", "/webhooks/nomba", raw_body=json.dumps(body), headers=headers)


def apply_events(stack: Stack) -> int:
    """Relay the outbox, then run the gateway-events worker until its queue is empty."""
    pipe = Pipeline(stack)
    pipe.relay()
    total = 0
    while True:
        n, _ = pipe.work("GatewayEventsQueue", "functions/workers/gateway_events/")
        if not n:
            return total
        total += n
