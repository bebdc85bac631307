"""A plan change on a Stripe subscription goes to Stripe first (its item switched to the plan's
Stripe price, exactly once), then ours; reconciliation then finds nothing to undo. Refusals
(no Stripe price, Stripe down or refusing, no permission, another tenant's) write nothing."""

from __future__ import annotations

from typing import Any

from infra.local.fake_gateways import FakeGateways
from tests.support import gateways as gw
from tests.support.actors import Actor
from tests.support.http import Api
from tests.support.people import member
from tests.support.stack import Stack


def _stripe_subscription(api: Api, stack: Stack, fake: FakeGateways, tenant_id: str, sid: str) -> str:
    """A subscription made at Stripe on the professional price (Stripe holds it, its webhook made
    ours); our subscription id."""
    obj = gw.subscription(sid, tenant_id, "professional")
    obj["items"]["data"][0]["price"] = fake.state.prices["price_professional"]
    fake.state.subscriptions[sid] = obj
    reply = gw.send_stripe(api, gw.stripe_event(f"evt_{sid}", "customer.subscription.created", obj))
    assert reply.status == 200, reply.text
    gw.apply_events(stack)
    [sub] = [s for s in stack.entities("subscription") if s["gateway_subscription_id"] == sid]
    return str(sub["subscription_id"])


def _stripe_price(fake: FakeGateways, sid: str) -> str:
    return str(fake.state.subscriptions[sid]["items"]["data"][0]["price"]["id"])


def _plan_of(api: Api, actor: Actor) -> tuple[str, int]:
    tenant = api.get(f"/tenants/{actor.tenant_id}", token=actor.token).json
    return tenant["plan"], tenant["limits"]["max_users"]


def _table(stack: Stack) -> list[dict[str, Any]]:
    return sorted(stack.scan(), key=lambda i: (i["PK"], i["SK"]))


def test_a_plan_change_moves_stripe_once_then_ours_and_reconciliation_keeps_it(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    root, boss, _ = world
    priced = api.patch(
        "/plans/enterprise", {"gateway_prices": {"stripe": "price_enterprise"}}, token=root.token
    )
    assert priced.status == 200, priced.text
    listed = {p["plan_id"]: p for p in api.get("/plans", token=boss.token).json["items"]}
    assert listed["enterprise"]["gateway_prices"] == {"stripe": "price_enterprise"}
    assert listed["starter"]["gateway_prices"] == {"stripe": None}  # the defaults name no price
    subscription_id = _stripe_subscription(api, stack, fake, boss.tenant_id, "sub_up")
    path = f"/subscriptions/{subscription_id}/plan"

    changed = api.post(path, {"plan_id": "enterprise"}, token=boss.token, headers={"idempotency-key": "up-1"})
    assert changed.status == 200, changed.text
    assert changed.json["plan_id"] == "enterprise"
    assert _stripe_price(fake, "sub_up") == "price_enterprise"
    assert fake.price_switches() == [
        {"subscription": "sub_up", "prices": ["price_enterprise"], "proration_behavior": None}
    ]
    assert _plan_of(api, boss) == ("enterprise", 1000)
    [event] = api.get("/billing-events", token=boss.token, query={"kind": "subscription.upgrade"}).json[
        "items"
    ]
    assert event["details"]["stripe_price"] == "price_enterprise"

    # the same request again (same Idempotency-Key): the first answer, Stripe not asked again
    again = api.post(path, {"plan_id": "enterprise"}, token=boss.token, headers={"idempotency-key": "up-1"})
    assert (again.status, again.json) == (200, changed.json)
    # and without the key: already on the plan, nothing to do
    assert api.post(path, {"plan_id": "enterprise"}, token=boss.token).status == 200
    assert len(fake.price_switches()) == 1

    # the gateway charges what we record: reconciliation changes nothing
    report = api.post("/billing/reconcile", token=root.token).json
    assert (report["checked"], report["changed"], report["errors"]) == (1, [], [])
    [sub] = api.get("/subscriptions", token=boss.token).json["items"]
    assert sub["plan_id"] == "enterprise"
    assert _plan_of(api, boss) == ("enterprise", 1000)

    # proration as asked, passed to Stripe
    api.patch("/plans/starter", {"gateway_prices": {"stripe": "price_starter"}}, token=root.token)
    down = api.post(path, {"plan_id": "starter", "proration_behavior": "none"}, token=boss.token)
    assert down.status == 200, down.text
    assert fake.price_switches()[-1] == {
        "subscription": "sub_up",
        "prices": ["price_starter"],
        "proration_behavior": "none",
    }
    assert _plan_of(api, boss) == ("starter", 25)
    assert api.post("/billing/reconcile", token=root.token).json["changed"] == []


def test_a_lost_stripe_answer_then_a_retry_switches_stripe_once(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    """Stripe switched the price but its answer was lost (twice: the client's own retry too): a
    502 and nothing of ours written; the operator's retry carries the same derived idempotency key,
    so Stripe replays its answer instead of switching again, and ours follows."""
    root, boss, _ = world
    api.patch("/plans/enterprise", {"gateway_prices": {"stripe": "price_enterprise"}}, token=root.token)
    subscription_id = _stripe_subscription(api, stack, fake, boss.tenant_id, "sub_lost")
    path = f"/subscriptions/{subscription_id}/plan"
    before = _table(stack)
    fake.lose_answers(2)
    lost = api.post(path, {"plan_id": "enterprise"}, token=boss.token)
    assert (lost.status, lost.code) == (502, "SAAS_053"), lost.text
    assert _table(stack) == before
    assert _stripe_price(fake, "sub_lost") == "price_enterprise"  # Stripe did it
    retried = api.post(path, {"plan_id": "enterprise"}, token=boss.token)
    assert retried.status == 200, retried.text
    assert len(fake.price_switches()) == 1
    assert _plan_of(api, boss) == ("enterprise", 1000)


def test_refused_plan_changes_write_nothing_and_leave_stripe_alone(
    api: Api, stack: Stack, world, fake: FakeGateways
) -> None:
    root, boss, other = world
    subscription_id = _stripe_subscription(api, stack, fake, boss.tenant_id, "sub_no")
    path = f"/subscriptions/{subscription_id}/plan"
    pharmacist = member(api, boss, "ph@acme.example.com")
    before = _table(stack)

    # a plan with no Stripe price (the defaults have none)
    unpriced = api.post(path, {"plan_id": "enterprise"}, token=boss.token)
    assert (unpriced.status, unpriced.code) == (409, "SAAS_011"), unpriced.text
    assert "'enterprise'" in unpriced.json["error"]["message"]
    assert unpriced.json["error"]["details"][0]["field"] == "plan_id"
    # no permission: refused before anything is read
    denied = api.post(path, {"plan_id": "enterprise"}, token=pharmacist.token)
    assert (denied.status, denied.code) == (403, "SAAS_001")
    # another tenant's subscription: not found, nothing about it said
    foreign = api.post(path, {"plan_id": "enterprise"}, token=other.token)
    assert (foreign.status, foreign.code) == (404, "SAAS_058")
    assert "sub_no" not in foreign.text
    # a bad body names its field
    bad = api.post(path, {"plan_id": "enterprise", "proration_behavior": "sometimes"}, token=boss.token)
    assert (bad.status, bad.code) == (422, "API_007")
    assert "proration_behavior" in bad.text
    assert _table(stack) == before

    # Stripe down, or Stripe refusing the price: 502, nothing of ours written
    api.patch("/plans/enterprise", {"gateway_prices": {"stripe": "price_enterprise"}}, token=root.token)
    before = _table(stack)
    fake.stripe_outage()
    down = api.post(path, {"plan_id": "enterprise"}, token=boss.token)
    assert (down.status, down.code) == (502, "SAAS_053"), down.text
    fake.stripe_outage(False)
    api.patch("/plans/starter", {"gateway_prices": {"stripe": "price_gone"}}, token=root.token)
    before = _table(stack)
    refused = api.post(path, {"plan_id": "starter"}, token=boss.token)
    assert (refused.status, refused.code) == (502, "SAAS_053"), refused.text
    assert _table(stack) == before
    assert fake.price_switches() == []
    assert _stripe_price(fake, "sub_no") == "price_professional"
    assert _plan_of(api, boss) == ("professional", 100)


def test_gateway_prices_are_validated_and_can_be_removed(api: Api, stack: Stack, world) -> None:
    root, _, _ = world
    bad = api.patch("/plans/starter", {"gateway_prices": {"stripe": "not-a-price"}}, token=root.token)
    assert (bad.status, bad.code) == (422, "API_007")
    assert "gateway_prices" in bad.text
    nomba = api.patch("/plans/starter", {"gateway_prices": {"nomba": "x"}}, token=root.token)
    assert (nomba.status, nomba.code) == (422, "API_007")
    assert stack.entities("plan") == []
    created = api.post(
        "/plans",
        {
            "plan_id": "clinic",
            "name": "Clinic",
            "price": 9900,
            "currency": "USD",
            "limits": {"max_users": 50},
            "gateway_prices": {"stripe": "price_clinic"},
        },
        token=root.token,
    )
    assert created.status == 201, created.text
    assert created.json["gateway_prices"] == {"stripe": "price_clinic"}
    cleared = api.patch("/plans/clinic", {"gateway_prices": {"stripe": None}}, token=root.token)
    assert cleared.json["gateway_prices"] == {"stripe": None}
    [stored] = stack.entities("plan")
    assert not stored.get("gateway_prices", {}).get("stripe")
