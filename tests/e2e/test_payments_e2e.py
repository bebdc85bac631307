"""Issue 12 over HTTP against the running local stack: signed Stripe and Nomba events sent with the
documented command (`infra.gateway_events`) to the webhooks, applied by the worker behind the
queue; the payment, invoice and billing history visible to the tenant; a partial refund sent twice
with one Idempotency-Key refunds once in the stack's fake Stripe."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from infra import gateway_events
from tests.e2e.client import Api, Mailbox, new_tenant, request

pytestmark = pytest.mark.e2e


def _eventually(read: Callable[[], list[dict[str, Any]]], timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = read()
        if items or time.monotonic() > deadline:
            return items
        time.sleep(0.25)


def test_stripe_payment_refund_and_nomba_payment(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    boss = new_tenant(api, mailbox, str(local_stack["admin_token"]), "Dental")
    invoice, intent = f"INV-{uuid.uuid4().hex[:6]}", f"pi_{uuid.uuid4().hex[:12]}"

    # payment_intent.succeeded, the same event five times at once: one payment, one billing event
    _, replies = gateway_events.send(
        local_stack,
        "payment_intent.succeeded",
        tenant=boss.tenant_id,
        amount=5000,
        invoice=invoice,
        obj_id=intent,
        times=5,
    )
    assert [status for status, _ in replies] == [200] * 5

    def stripe_payments() -> list[dict[str, Any]]:
        found = api.get("/payments", token=boss.token, query={"invoice_id": invoice}).json["items"]
        return [p for p in found if p["status"] == "succeeded"]

    payments = _eventually(stripe_payments)
    assert [(p["gateway"], p["amount"], p["gateway_payment_id"]) for p in payments] == [
        ("stripe", 5000, intent)
    ]
    paid = api.get(f"/invoices/{invoice}", token=boss.token)
    assert (paid.json["status"], paid.json["amount_paid"]) == ("paid", 5000), str(paid)
    time.sleep(1)  # let the four duplicates be processed too
    kinds = [e["kind"] for e in api.get("/billing-events", token=boss.token).json["items"]]
    assert kinds == ["payment.succeeded"]

    # a partial refund, retried with the same Idempotency-Key: one refund at the gateway
    url = f"{api.base_url}/payments/{payments[0]['payment_id']}/refunds"
    headers = {"idempotency-key": f"refund-{invoice}"}
    first = request("POST", url, {"amount": 2000}, token=boss.token, headers=headers)
    again = request("POST", url, {"amount": 2000}, token=boss.token, headers=headers)
    assert first.status in (200, 201), str(first)
    assert again.json["refund"]["refund_id"] == first.json["refund"]["refund_id"]
    assert again.json["payment"]["amount_refunded"] == 2000
    fake = request("GET", local_stack["fake_gateway_url"] + "/_fake/state").json
    assert [r["amount"] for r in fake["refunds"] if r["payment_intent"] == intent] == [2000]
    too_much = request("POST", url, {"amount": 3001}, token=boss.token, headers={"idempotency-key": "r2"})
    assert (too_much.status, too_much.code) == (409, "SAAS_052"), str(too_much)

    # Nomba's payment_success, signed with the key make dev printed
    order = f"ord-{uuid.uuid4().hex[:6]}"
    _, replies = gateway_events.send(
        local_stack, "payment_success", tenant=boss.tenant_id, amount=150000, invoice=order
    )
    assert [status for status, _ in replies] == [200]
    nomba = _eventually(
        lambda: api.get("/payments", token=boss.token, query={"invoice_id": order}).json["items"]
    )
    assert [(p["gateway"], p["amount"], p["currency"]) for p in nomba] == [("nomba", 150000, "NGN")]


def test_a_plan_change_moves_the_fake_stripe_first_and_reconciliation_keeps_it(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    """The README's commands: a Stripe subscription held by the fake, moved to enterprise through
    the API; the fake's subscription is on the enterprise price and reconciliation leaves it."""
    api, root = http_api, str(local_stack["admin_token"])
    boss = new_tenant(api, mailbox, root, "Clinic")
    sid = f"sub_{uuid.uuid4().hex[:12]}"
    _, replies = gateway_events.send(
        local_stack, "customer.subscription.updated", tenant=boss.tenant_id, obj_id=sid
    )
    assert [status for status, _ in replies] == [200]
    [sub] = _eventually(lambda: api.get("/subscriptions", token=boss.token).json["items"])
    prices = {"gateway_prices": {"stripe": "price_enterprise"}}
    priced = api.call("PATCH", "/plans/enterprise", prices, token=root)
    assert priced.status == 200, str(priced)
    changed = api.post(
        f"/subscriptions/{sub['subscription_id']}/plan", {"plan_id": "enterprise"}, token=boss.token
    )
    assert (changed.status, changed.json["plan_id"]) == (200, "enterprise"), str(changed)
    fake = request("GET", local_stack["fake_gateway_url"] + "/_fake/state").json
    assert fake["subscriptions"][sid]["items"]["data"][0]["price"]["id"] == "price_enterprise"
    assert [p["prices"] for p in fake["price_switches"] if p["subscription"] == sid] == [["price_enterprise"]]
    report = api.post("/billing/reconcile", token=root).json
    assert [c for c in report["changed"] if c["subscription_id"] == sub["subscription_id"]] == []
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["plan"] == "enterprise"
