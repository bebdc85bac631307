"""Payments end to end in-process: signed webhooks, exactly-once application, refunds, duplicates,
invoices, plans and subscriptions, reconciliation against the fake gateway."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from infra.apps import function_module
from infra.lambda_events import LambdaContext, sqs_event
from infra.local.emulation import serialize_dynamodb
from infra.local.fake_gateways import FakeGateways
from tests.support import gateways as gw
from tests.support.http import Api
from tests.support.people import member
from tests.support.pipeline import Pipeline
from tests.support.stack import Stack


def _items(stack: Stack, entity: str) -> list[dict]:
    return stack.entities(entity)


def test_signed_payment_succeeded_makes_payment_invoice_and_billing_event(
    api: Api, stack: Stack, world
) -> None:
    _, boss, other = world
    payload = gw.stripe_event(
        "evt_1", "payment_intent.succeeded", gw.intent("pi_1", boss.tenant_id, 5000, "INV-1")
    )
    reply = gw.send_stripe(api, payload)
    assert reply.status == 200, reply.text
    assert gw.apply_events(stack) == 1
    payments = api.get("/payments", token=boss.token).json["items"]
    assert [(p["status"], p["amount"], p["invoice_id"], p["gateway"]) for p in payments] == [
        ("succeeded", 5000, "INV-1", "stripe")
    ]
    invoice = api.get("/invoices/INV-1", token=boss.token).json
    assert invoice["status"] == "paid"
    assert invoice["amount_paid"] == 5000
    kinds = [e["kind"] for e in api.get("/billing-events", token=boss.token).json["items"]]
    assert kinds == ["payment.succeeded"]
    assert api.get(f"/payments/{payments[0]['payment_id']}", token=boss.token).status == 200
    # another tenant sees none of it
    assert api.get("/payments", token=other.token).json["items"] == []
    assert api.get(f"/payments/{payments[0]['payment_id']}", token=other.token).code == "SAAS_055"
    assert api.get("/invoices/INV-1", token=other.token).code == "SAAS_056"
    types = {i["event"]["type"] for i in _items(stack, "outbox")}
    assert {"payment.succeeded", "invoice.paid", "gateway.event_received"} <= types


def test_the_same_event_five_times_at_once_is_applied_once(api: Api, stack: Stack, world) -> None:
    """Five deliveries of one event at once through stripe_webhook (five threads), then five
    worker invocations at once, one message each (as five Lambda instances would): one payment."""
    serialize_dynamodb()  # moto's transactions are not atomic across threads otherwise
    _, boss, _ = world
    payload = gw.stripe_event(
        "evt_dup", "payment_intent.succeeded", gw.intent("pi_dup", boss.tenant_id, 700, "INV-D")
    )
    with ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(lambda _: gw.send_stripe(api, payload), range(5)))
    assert [r.status for r in replies] == [200] * 5
    Pipeline(stack).relay()
    messages: list[dict] = []
    while len(messages) < 5 and (batch := stack.receive("GatewayEventsQueue")):
        messages += batch
    assert len(messages) == 5
    worker = function_module("functions/workers/gateway_events/")
    start = threading.Barrier(5)

    def invoke(message: dict) -> dict:
        start.wait()
        event = sqs_event([message], stack.queue_arns["GatewayEventsQueue"])
        return dict(worker.lambda_handler(event, LambdaContext("gateway-events", timeout_seconds=30)))

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(invoke, messages))
    assert [r.get("batchItemFailures") for r in results] == [[]] * 5
    receipts = api.get("/gateway-events", token=world[0].token).json["items"]
    assert sorted(r["processing"] for r in receipts) == ["applied"] + ["duplicate"] * 4
    assert api.get("/invoices/INV-D", token=boss.token).json["amount_paid"] == 700
    assert len(api.get("/payments", token=boss.token).json["items"]) == 1
    assert len(api.get("/billing-events", token=boss.token).json["items"]) == 1
    emitted = [i["event"]["type"] for i in _items(stack, "outbox")]
    assert emitted.count("payment.succeeded") == 1
    assert emitted.count("gateway.event_received") == 5


def test_an_older_event_never_overwrites_newer_state(api: Api, stack: Stack, world) -> None:
    _, boss, _ = world
    ok = gw.stripe_event(
        "evt_new", "payment_intent.succeeded", gw.intent("pi_o", boss.tenant_id), created=2000
    )
    failed_obj = gw.intent("pi_o", boss.tenant_id, last_payment_error={"decline_code": "insufficient_funds"})
    late = gw.stripe_event("evt_old", "payment_intent.payment_failed", failed_obj, created=1000)
    gw.send_stripe(api, ok)
    gw.send_stripe(api, late)
    gw.apply_events(stack)
    [payment] = api.get("/payments", token=boss.token).json["items"]
    assert payment["status"] == "succeeded"
    assert payment["decline_code"] is None


def test_failed_payment_carries_decline_advice(api: Api, stack: Stack, world) -> None:
    _, boss, _ = world
    obj = gw.intent(
        "pi_f", boss.tenant_id, last_payment_error={"decline_code": "insufficient_funds", "message": "no"}
    )
    gw.send_stripe(api, gw.stripe_event("evt_f", "payment_intent.payment_failed", obj))
    gw.apply_events(stack)
    [payment] = api.get("/payments", token=boss.token, query={"status": "failed"}).json["items"]
    assert payment["decline"] == {
        "code": "insufficient_funds",
        "meaning": "Card has no funds",
        "next_step": "Ask customer to use different card",
    }
    assert api.get("/invoices", token=boss.token).json["items"][0]["status"] == "payment_failed"


def test_unknown_types_are_stored_and_ignored(api: Api, stack: Stack, world) -> None:
    root, _, _ = world
    gw.send_stripe(api, gw.stripe_event("evt_u", "customer.tax_id.created", {"id": "txi_1"}))
    gw.apply_events(stack)
    [receipt] = api.get("/gateway-events", token=root.token).json["items"]
    assert receipt["processing"] == "ignored"
    assert receipt["event_type"] == "customer.tax_id.created"


@pytest.mark.parametrize(
    ("header", "code", "status"),
    [
        ("", "SAAS_050", 400),
        ("garbage", "SAAS_050", 400),
        ("WRONG", "SAAS_051", 401),
        ("STALE", "SAAS_051", 401),
        ("FUTURE", "SAAS_051", 401),
    ],
)
def test_bad_stripe_signatures_are_refused_stored_and_never_applied(
    api: Api, stack: Stack, world, header: str, code: str, status: int
) -> None:
    import time

    root, boss, _ = world
    payload = gw.stripe_event("evt_bad", "payment_intent.succeeded", gw.intent("pi_b", boss.tenant_id))
    now = int(time.time())
    chosen = {
        "WRONG": gw.stripe_header(payload, secret="whsec_other"),
        "STALE": gw.stripe_header(payload, at=now - 400),
        "FUTURE": gw.stripe_header(payload, at=now + 400),
    }.get(header, header)
    reply = gw.send_stripe(api, payload, chosen)
    assert (reply.status, reply.code) == (status, code)
    assert gw.apply_events(stack) == 0
    [receipt] = api.get("/gateway-events", token=root.token).json["items"]
    assert receipt["verification"] == "rejected"
    assert receipt["processing"] == "rejected"
    assert api.get("/payments", token=boss.token).json["items"] == []


def test_nomba_payment_success_once_and_bad_signature_refused(api: Api, stack: Stack, world) -> None:
    _root, boss, _ = world
    body = gw.nomba_body("req-1", boss.tenant_id)
    for _ in range(5):
        assert gw.send_nomba(api, body).status == 200
    gw.apply_events(stack)
    [payment] = api.get("/payments", token=boss.token).json["items"]
    assert (payment["gateway"], payment["amount"], payment["currency"], payment["status"]) == (
        "nomba",
        150000,
        "NGN",
        "succeeded",
    )
    assert api.get(f"/invoices/{payment['invoice_id']}", token=boss.token).json["status"] == "paid"
    wrong = gw.send_nomba(api, gw.nomba_body("req-2", boss.tenant_id), key="not-the-key")
    assert (wrong.status, wrong.code) == (401, "SAAS_051")
    # partial refund through Nomba
    refund = api.post(f"/payments/{payment['payment_id']}/refunds", {"amount": 50000}, token=boss.token)
    assert refund.status == 201, refund.text
    state = requests.get(gw_url(stack) + "/_fake/state", timeout=5).json()
    assert [r["amount"] for r in state["nomba_refunds"]] == ["500.00"]


def test_stored_deliveries_keep_no_personal_data_and_payments_keep_the_email(
    api: Api, stack: Stack, world
) -> None:
    """A Nomba delivery with the customer's fields and a Stripe payment with its receipt e-mail and
    billing details are stored without them (API and table); the payment still records the
    e-mail it was paid with, the one place payments keep it, and nothing is held once applied."""
    root, boss, _ = world
    nomba = gw.nomba_body("req-pii", boss.tenant_id)
    nomba["data"]["customer"] = {
        "email": "ngozi@example.com",
        "name": "Ngozi Eze",
        "phone": "+2348031112222",
        "billingAddress": "4 Awolowo Way, Ikeja",
    }
    nomba["data"]["order"].update(customerEmail="ngozi@example.com", customerName="Ngozi Eze")
    assert gw.send_nomba(api, nomba).status == 200
    billing = {"email": "chidi@example.com", "name": "Chidi Obi", "phone": "+2348035556666"}
    charge = {"object": "charge", "billing_details": {**billing, "address": {"line1": "9 Allen Avenue"}}}
    intent = gw.intent(
        "pi_pii", boss.tenant_id, 900, "INV-PII", receipt_email="chidi@example.com", latest_charge=charge
    )
    assert gw.send_stripe(api, gw.stripe_event("evt_pii", "payment_intent.succeeded", intent)).status == 200
    personal = ("ngozi@", "Ngozi", "+2348031112222", "Awolowo", "chidi@", "Chidi", "+2348035556666", "Allen")

    def leaks(texts: list[str]) -> list[str]:
        return [p for p in personal for text in texts if p in text]

    def shown() -> list[str]:
        return [r["body"] for r in api.get("/gateway-events", token=root.token).json["items"]]

    def stored(but: str = "") -> list[str]:
        items = stack.entities("gateway_event")
        assert len(items) == 2
        return [json.dumps({k: v for k, v in i.items() if k != but}, default=str) for i in items]

    # before the worker: bodies clean; the e-mails the worker reads held beside them, never shown
    assert leaks(shown()) == []
    assert leaks(stored(but="held")) == []
    assert sorted((i["held"] for i in stack.entities("gateway_event")), key=str) == [
        {"data.customer.email": "ngozi@example.com", "data.order.customerEmail": "ngozi@example.com"},
        {"data.object.receipt_email": "chidi@example.com"},
    ]
    gw.apply_events(stack)
    assert leaks(shown() + stored()) == []
    assert all("held" not in i for i in stack.entities("gateway_event"))
    assert {
        p["gateway"]: p["customer_email"] for p in api.get("/payments", token=boss.token).json["items"]
    } == {
        "nomba": "ngozi@example.com",
        "stripe": "chidi@example.com",
    }
    [receipt] = api.get("/gateway-events", token=root.token, query={"gateway": "nomba"}).json["items"]
    data = json.loads(receipt["body"])["data"]
    assert data["customer"] == dict.fromkeys(("email", "name", "phone", "billingAddress"), "[redacted]")
    assert data["order"]["customerEmail"] == data["order"]["customerName"] == "[redacted]"
    assert data["transaction"]["transactionId"] == "WEB-req-pii"


def gw_url(stack: Stack) -> str:
    import json as j

    sm = stack.client("secretsmanager")
    arn = sm.list_secrets()["SecretList"][0]["ARN"]
    return str(j.loads(sm.get_secret_value(SecretId=arn)["SecretString"])["stripe_api_base"])


def test_partial_refund_twice_with_the_same_key_refunds_once(api: Api, stack: Stack, world) -> None:
    _root, boss, other = world
    gw.send_stripe(
        api, gw.stripe_event("evt_r", "payment_intent.succeeded", gw.intent("pi_r", boss.tenant_id, 5000))
    )
    gw.apply_events(stack)
    [payment] = api.get("/payments", token=boss.token).json["items"]
    path = f"/payments/{payment['payment_id']}/refunds"
    key = {"Idempotency-Key": "refund-42"}
    first = api.post(path, {"amount": 2000}, token=boss.token, headers=key)
    again = api.post(path, {"amount": 2000}, token=boss.token, headers=key)
    assert first.status == again.status == 201, first.text
    assert first.json["refund"]["refund_id"] == again.json["refund"]["refund_id"]
    state = requests.get(gw_url(stack) + "/_fake/state", timeout=5).json()
    assert [r["amount"] for r in state["refunds"]] == [2000]
    got = api.get(path.rsplit("/", 1)[0], token=boss.token).json
    assert (got["status"], got["amount_refunded"]) == ("partially_refunded", 2000)
    # never more than what is left, nothing sent to the gateway
    too_much = api.post(path, {"amount": 3001}, token=boss.token)
    assert (too_much.status, too_much.code) == (409, "SAAS_052")
    # another tenant, or without permission: refused, nothing sent
    assert api.post(path, {"amount": 1}, token=other.token).code == "SAAS_055"
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert api.post(path, {"amount": 1}, token=cashier.token).code == "SAAS_001"
    assert api.get("/plans", token=cashier.token).code == "SAAS_001"
    bad = api.post(path, {"amount": -5}, token=boss.token)
    assert bad.status == 422
    assert "amount" in bad.text
    state = requests.get(gw_url(stack) + "/_fake/state", timeout=5).json()
    assert len(state["refunds"]) == 1
    rest = api.post(path, {}, token=boss.token)
    assert rest.status == 201
    assert rest.json["payment"]["status"] == "refunded"
    assert rest.json["refund"]["amount"] == 3000


def test_duplicate_payments_of_one_invoice_are_found(api: Api, stack: Stack, world) -> None:
    _, boss, other = world
    for n in (1, 2):
        gw.send_stripe(
            api,
            gw.stripe_event(
                f"evt_d{n}", "payment_intent.succeeded", gw.intent(f"pi_d{n}", boss.tenant_id, 900, "INV-9")
            ),
        )
    gw.send_stripe(
        api,
        gw.stripe_event(
            "evt_d3", "payment_intent.succeeded", gw.intent("pi_d3", boss.tenant_id, 900, "INV-10")
        ),
    )
    gw.apply_events(stack)
    [dup] = api.get("/duplicate-payments", token=boss.token).json["items"]
    assert dup["invoice_id"] == "INV-9"
    assert dup["paid_total"] == 1800
    assert len(dup["payments"]) == 2
    assert api.get("/duplicate-payments", token=other.token).json["items"] == []


def test_mark_invoice_paid_requires_a_reason(api: Api, stack: Stack, world) -> None:
    _, boss, other = world
    obj = gw.intent(
        "pi_m", boss.tenant_id, invoice_id="INV-M", last_payment_error={"decline_code": "expired_card"}
    )
    gw.send_stripe(api, gw.stripe_event("evt_m", "payment_intent.payment_failed", obj))
    gw.apply_events(stack)
    assert api.post("/invoices/INV-M/mark-paid", {}, token=boss.token).status == 422
    assert (
        api.post("/invoices/INV-M/mark-paid", {"reason": "paid by bank transfer"}, token=other.token).code
        == "SAAS_056"
    )
    done = api.post("/invoices/INV-M/mark-paid", {"reason": "paid by bank transfer"}, token=boss.token)
    assert done.status == 200
    assert done.json["status"] == "paid"
    assert done.json["marked_paid_reason"]


def _subscribe(
    api: Api, stack: Stack, tenant_id: str, plan: str = "professional", sid: str = "sub_1"
) -> dict:
    obj = {
        "id": sid,
        "object": "subscription",
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_end": 1900000000,
        "metadata": {"tenant_id": tenant_id, "plan_id": plan},
    }
    gw.send_stripe(api, gw.stripe_event(f"evt_{sid}", "customer.subscription.created", obj))
    gw.apply_events(stack)
    return obj


def test_plans_subscriptions_downgrade_below_usage_refused(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    root, boss, other = world
    assert {p["plan_id"] for p in api.get("/plans", token=boss.token).json["items"]} >= {
        "starter",
        "professional",
    }
    tiny = {
        "plan_id": "tiny",
        "name": "Tiny",
        "price": 100,
        "currency": "USD",
        "interval": "month",
        "limits": {"max_users": 1},
        "features": ["inventory"],
    }
    assert api.post("/plans", tiny, token=boss.token).code == "SAAS_001"
    assert api.post("/plans", tiny, token=root.token).status == 201
    assert api.post("/plans", {**tiny, "price": 1.5}, token=root.token).status == 422
    assert api.patch("/plans/nope", {"price": 5}, token=root.token).code == "SAAS_057"
    # the subscription lives at Stripe: each plan it moves to names its Stripe price
    fake.add_price("price_tiny", "tiny")
    for plan_id in ("tiny", "starter", "enterprise"):
        priced = api.patch(
            f"/plans/{plan_id}", {"gateway_prices": {"stripe": f"price_{plan_id}"}}, token=root.token
        )
        assert priced.json["gateway_prices"] == {"stripe": f"price_{plan_id}"}, priced.text
    _subscribe(api, stack, boss.tenant_id)
    requests.put(
        f"{fake.url}/_fake/stripe/subscriptions/sub_1",
        json=gw.subscription("sub_1", boss.tenant_id, "professional"),
        timeout=5,
    )
    [sub] = api.get("/subscriptions", token=boss.token).json["items"]
    assert sub["plan_id"] == "professional"
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["limits"]["max_users"] == 100
    member(api, boss, "ph@acme.example.com")  # two users now
    path = f"/subscriptions/{sub['subscription_id']}"
    refused = api.post(f"{path}/plan", {"plan_id": "tiny"}, token=boss.token)
    assert (refused.status, refused.code) == (409, "SAAS_054")
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["plan"] == "professional"
    assert fake.price_switches() == []  # refused before Stripe was asked
    assert api.post(f"{path}/plan", {"plan_id": "starter"}, token=other.token).code == "SAAS_058"
    down = api.post(f"{path}/plan", {"plan_id": "starter"}, token=boss.token)
    assert down.status == 200
    assert down.json["plan_id"] == "starter"
    tenant = api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json
    assert (tenant["plan"], tenant["limits"]["max_users"]) == ("starter", 25)
    assert fake.state.subscriptions["sub_1"]["items"]["data"][0]["price"]["id"] == "price_starter"
    # billing admin changes plans without tenants:manage
    billing = member(api, root, "billing@keel.example.com", role="billing_admin")
    up = api.post(
        f"{path}/plan", {"plan_id": "enterprise"}, token=billing.token, query={"tenant_id": boss.tenant_id}
    )
    assert up.status == 200, up.text
    # cancel at period end through Stripe, then renew
    requests.put(f"{fake.url}/_fake/stripe/subscriptions/sub_1", json={"status": "active"}, timeout=5)
    cancelled = api.post(f"{path}/cancel", {"at_period_end": True}, token=boss.token)
    assert cancelled.status == 200
    assert cancelled.json["cancel_at_period_end"] is True
    assert fake.state.subscriptions["sub_1"]["cancel_at_period_end"] is True
    renewed = api.post(f"{path}/renew", token=boss.token)
    assert renewed.status == 200
    assert renewed.json["cancel_at_period_end"] is False
    kinds = [
        e["kind"]
        for e in api.get("/billing-events", token=boss.token, query={"kind": "subscription."}).json["items"]
    ]
    assert {
        "subscription.created",
        "subscription.downgrade",
        "subscription.upgrade",
        "subscription.cancelled",
        "subscription.renewed",
    } <= set(kinds)


def test_drift_in_the_gateway_is_reconciled_and_reported(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    root, boss, _ = world
    obj = _subscribe(api, stack, boss.tenant_id, sid="sub_drift")
    requests.put(
        f"{fake.url}/_fake/stripe/subscriptions/sub_drift", json={**obj, "status": "past_due"}, timeout=5
    )
    assert api.post("/billing/reconcile", token=boss.token).code == "SAAS_001"
    report = api.post("/billing/reconcile", token=root.token)
    assert report.status == 200, report.text
    assert [(c["field"], c["ours"], c["gateway"]) for c in report.json["changed"]] == [
        ("status", "active", "past_due")
    ]
    [sub] = api.get("/subscriptions", token=boss.token).json["items"]
    assert sub["status"] == "past_due"
    again = api.post("/billing/reconcile", token=root.token).json
    assert again["changed"] == []
    assert again["checked"] == 1
    # the daily schedule does the same
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, scheduled_event

    out = function_module("functions/schedules/reconcile_subscriptions/").lambda_handler(
        scheduled_event("arn:aws:events:us-east-1:123456789012:rule/daily"), LambdaContext("reconcile")
    )
    assert out["checked"] == 1
    assert out["changed"] == []


def test_a_gateway_subscription_on_another_plan_is_reconciled_and_reported(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    """The gateway charges for another plan than ours (its price names it): reconciliation reports
    the plan drift and moves the subscription and the tenant's plan and user limit to it; a price
    naming a plan the catalogue lacks is reported as an error and changes nothing."""
    root, boss, other = world
    _subscribe(api, stack, boss.tenant_id, plan="professional", sid="sub_plan")
    _subscribe(api, stack, other.tenant_id, plan="professional", sid="sub_same")
    gateway = f"{fake.url}/_fake/stripe/subscriptions"
    requests.put(
        f"{gateway}/sub_same", json=gw.subscription("sub_same", other.tenant_id, "professional"), timeout=5
    )
    on_enterprise = gw.subscription("sub_plan", boss.tenant_id, "enterprise")
    requests.put(f"{gateway}/sub_plan", json=on_enterprise, timeout=5)

    report = api.post("/billing/reconcile", token=root.token).json
    assert report["checked"] == 2
    assert report["errors"] == []
    assert [(c["tenant_id"], c["field"], c["ours"], c["gateway"]) for c in report["changed"]] == [
        (boss.tenant_id, "plan_id", "professional", "enterprise")
    ]
    [sub] = api.get("/subscriptions", token=boss.token).json["items"]
    assert (sub["plan_id"], sub["status"]) == ("enterprise", "active")
    tenant = api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json
    assert (tenant["plan"], tenant["limits"]["max_users"]) == ("enterprise", 1000)
    assert api.get(f"/tenants/{other.tenant_id}", token=other.token).json["plan"] == "professional"
    [event] = api.get("/billing-events", token=boss.token, query={"kind": "subscription.reconciled"}).json[
        "items"
    ]
    assert event["details"]["plan_id"] == {"ours": "professional", "gateway": "enterprise"}
    moved = [
        i["event"]["data"] for i in _items(stack, "outbox") if i["event"]["type"] == "subscription.updated"
    ]
    assert [(m["from_plan"], m["plan_id"]) for m in moved] == [("professional", "enterprise")]
    assert api.post("/billing/reconcile", token=root.token).json["changed"] == []

    # a price naming no plan we know: reported, nothing changed
    requests.put(
        f"{gateway}/sub_plan", json=gw.subscription("sub_plan", boss.tenant_id, "gold_2019"), timeout=5
    )
    unknown = api.post("/billing/reconcile", token=root.token).json
    assert unknown["changed"] == []
    [error] = unknown["errors"]
    assert error["subscription_id"] == sub["subscription_id"]
    assert "'gold_2019'" in error["error"]
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["plan"] == "enterprise"

    # the daily schedule does the same: the gateway moved the tenant down to starter (and past due)
    down = gw.subscription("sub_plan", boss.tenant_id, "starter", status="past_due")
    requests.put(f"{gateway}/sub_plan", json=down, timeout=5)
    from infra.lambda_events import scheduled_event

    out = function_module("functions/schedules/reconcile_subscriptions/").lambda_handler(
        scheduled_event("arn:aws:events:us-east-1:123456789012:rule/daily"), LambdaContext("reconcile")
    )
    assert sorted((c["field"], c["ours"], c["gateway"]) for c in out["changed"]) == [
        ("plan_id", "enterprise", "starter"),
        ("status", "active", "past_due"),
    ]
    tenant = api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json
    assert (tenant["plan"], tenant["limits"]["max_users"]) == ("starter", 25)


def test_gateway_status(api: Api, stack: Stack, world) -> None:
    root, boss, _ = world
    gw.send_stripe(api, "{}", "garbage")
    status = api.get("/gateway-status", token=root.token)
    assert status.status == 200, status.text
    stripe, nomba = status.json["gateways"]
    assert (stripe["credentials_set"], stripe["mode"], stripe["reachable"]) == (True, "test", True)
    assert stripe["recent_events"] == 1
    assert stripe["recent_failure_rate"] == 1.0
    assert nomba["credentials_set"] is True
    assert nomba["reachable"] is True
    assert api.get("/gateway-status", token=boss.token).code == "SAAS_001"


def test_reprocess_applies_again_without_doubling(api: Api, stack: Stack, world) -> None:
    root, boss, _ = world
    gw.send_stripe(
        api,
        gw.stripe_event("evt_p", "payment_intent.succeeded", gw.intent("pi_p", boss.tenant_id, 100, "INV-P")),
    )
    gw.apply_events(stack)
    [receipt] = api.get("/gateway-events", token=root.token).json["items"]
    assert api.post(f"/gateway-events/{receipt['receipt_id']}/reprocess", token=boss.token).code == "SAAS_001"
    assert api.post("/gateway-events/gwe_nope/reprocess", token=root.token).code == "SAAS_059"
    assert api.post(f"/gateway-events/{receipt['receipt_id']}/reprocess", token=root.token).status == 202
    gw.apply_events(stack)
    assert api.get("/invoices/INV-P", token=boss.token).json["amount_paid"] == 100
