"""Checkout (issue 13): refusals, the ledger (expand, audit, correct), late payments and oversell,
telling oversold customers once, staff alert fallback, and zero oversell under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.local.emulation import serialize_dynamodb
from infra.local.fake_gateways import FakeGateways
from keel.checkout import stripe_events
from keel.core import clock
from keel.store import keys
from tests.support.actors import Actor, super_admin
from tests.support.checkout import (
    CITY,
    buyer_body,
    completed,
    event_body,
    fake_providers,
    notify,
    organiser,
    run_release_schedule,
)
from tests.support.http import Api
from tests.support.mail import last_mail_to
from tests.support.people import member


def _checkout(api: Api, org: Actor, body: dict[str, Any]) -> Any:
    return api.post(f"/public/{org.tenant_id}/checkout-sessions", body)


def _tier(api: Api, org: Actor, tier: str = "GA") -> dict[str, Any]:
    return dict(api.get("/events", token=org.token).json["items"][0]["tiers"][tier])


def _world(api: Api, **event: Any) -> tuple[Actor, Actor, Actor]:
    root = super_admin(api)
    org = organiser(api, root)
    other = organiser(api, root, "Other Workshops", "org@other.example.com")
    created = api.post("/events", event_body(**event), token=org.token)
    assert created.status == 201, created.text
    return root, org, other


def test_bad_checkouts_are_refused_with_a_code_naming_the_field_and_hold_nothing(
    api: Api, gateways: FakeGateways
) -> None:
    _, org, other = _world(api, ga=2)
    with fake_providers(api):
        before = api.stack.scan()
        cases = [
            (buyer_body(quantity=0), 422, "API_007", "quantity"),
            (buyer_body(quantity=11), 422, "API_007", "quantity"),
            (buyer_body(tier="BALCONY"), 422, "API_007", "ticket_type"),
            (buyer_body(customer={"email": "not-an-address"}), 422, "API_007", "customer.email"),
            (buyer_body(city_id="atlantis-2030"), 404, "SAAS_060", None),
            (buyer_body(quantity=3), 409, "SAAS_061", "quantity"),
        ]
        for body, status, code, field in cases:
            reply = _checkout(api, org, body)
            assert (reply.status, reply.code) == (status, code), (body, reply.text)
            if field:
                assert reply.json["error"]["details"][0]["field"] == field
        # another tenant's id in the path finds nothing of this one
        assert _checkout(api, other, buyer_body()).code == "SAAS_060"
        assert api.stack.scan() == before
        assert gateways.sessions() == []


def test_stripe_failure_gives_the_seats_back_at_once(api: Api, gateways: FakeGateways) -> None:
    _, org, _ = _world(api, ga=1)
    with fake_providers(api):
        gateways.stripe_outage()
        reply = _checkout(api, org, buyer_body())
        assert (reply.status, reply.code) == (502, "SAAS_062")
        assert _tier(api, org)["remaining"] == 1
        gateways.stripe_outage(down=False)
        assert _checkout(api, org, buyer_body()).status == 201
    ops = [e["op"] for e in api.get(f"/events/{CITY}/inventory/transactions", token=org.token).json["items"]]
    assert ops.count("release") == 1


def test_permissions_and_tenants_on_staff_operations(api: Api) -> None:
    _, org, other = _world(api)
    manager = member(api, org, "em@sixfig.example.com", role="event_manager")
    door = member(api, org, "door@sixfig.example.com", role="check_in_staff")
    before = api.stack.scan()
    expand = {"tier": "GA", "additional_spots": 5, "reason": "Bigger room booked"}
    assert api.post(f"/events/{CITY}/inventory/expansions", expand, token=manager.token).code == "SAAS_001"
    assert api.get(f"/events/{CITY}/registrations", token=door.token).code == "SAAS_001"
    assert api.post("/events", event_body("austin-feb-2026"), token=door.token).code == "SAAS_001"
    for method, path, body in [
        ("GET", f"/events/{CITY}/registrations", None),
        ("GET", f"/events/{CITY}/inventory/audit", None),
        ("GET", f"/events/{CITY}/inventory/transactions", None),
        ("POST", f"/events/{CITY}/inventory/expansions", expand),
        ("PATCH", f"/events/{CITY}", {"venue": "Elsewhere"}),
    ]:
        reply = api.call(method, path, json_body=body, token=other.token)
        assert (reply.status, reply.code) == (404, "SAAS_060"), (path, reply.text)
        named = api.call(method, path, json_body=body, token=other.token, query={"tenant_id": org.tenant_id})
        assert (named.status, named.code) == (404, "SAAS_013")
    assert api.get("/events", token=other.token).json["items"] == []
    for bad in (
        {**expand, "additional_spots": 0},
        {**expand, "additional_spots": 51},
        {"tier": "GA", "additional_spots": 5},
        {**expand, "reason": ""},
    ):
        assert api.post(f"/events/{CITY}/inventory/expansions", bad, token=org.token).status == 422
    assert api.stack.scan() == before
    assert api.get(f"/events/{CITY}/registrations", token=manager.token).status == 200


def test_expand_corrupt_audit_correct(api: Api) -> None:
    _, org, _ = _world(api, ga=10)
    expanded = api.post(
        f"/events/{CITY}/inventory/expansions",
        {"tier": "GA", "additional_spots": 5, "reason": "Emergency expansion due to oversell"},
        token=org.token,
    )
    assert expanded.status == 200, expanded.text
    assert (expanded.json["actual_limit"], expanded.json["public_limit"], expanded.json["remaining"]) == (
        15,
        15,
        15,
    )
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
    # someone edits the counter by hand: the audit sees it
    api.stack.client("dynamodb").update_item(
        TableName=api.stack.table_name,
        Key={"PK": {"S": keys.tenant_pk(org.tenant_id)}, "SK": {"S": keys.inventory_sk(CITY, "GA")}},
        UpdateExpression="SET sold = :s",
        ExpressionAttributeValues={":s": {"N": "4"}},
    )
    audit = api.get(f"/events/{CITY}/inventory/audit", token=org.token).json
    assert audit["ok"] is False
    ga = next(t for t in audit["tiers"] if t["tier"] == "GA")
    assert ga["mismatch"]["sold"] == 4
    assert next(t for t in audit["tiers"] if t["tier"] == "VIP")["ok"] is True
    refused = api.post(
        f"/events/{CITY}/inventory/corrections",
        {"tier": "GA", "counts": {"actual_limit": 15, "held": 0, "sold": 0}},
        token=org.token,
    )
    assert refused.status == 422  # a reason is required
    fixed = api.post(
        f"/events/{CITY}/inventory/corrections",
        {"tier": "GA", "counts": {"actual_limit": 15, "held": 0, "sold": 0}, "reason": "Audit 2026-01-10"},
        token=org.token,
    )
    assert fixed.status == 200, fixed.text
    assert (fixed.json["sold"], fixed.json["remaining"]) == (0, 15)
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
    entries = api.get(f"/events/{CITY}/inventory/transactions", token=org.token).json["items"]
    assert [e["op"] for e in entries[:2]] == ["correct", "expand"]
    assert entries[0]["reason"] == "Audit 2026-01-10"
    assert entries[1]["actor"] == org.user_id
    logs = api.get("/audit-logs", token=org.token, query={"event_type": "inventory_corrected"}).json["items"]
    assert logs[0]["details"]["before"]["sold"] == 4


def test_late_payment_is_honoured_while_seats_remain_then_oversold_and_customers_told_once(
    api: Api, gateways: FakeGateways
) -> None:
    _, org, _ = _world(api, ga=2)
    with fake_providers(api) as fake:
        a = _checkout(api, org, buyer_body(n=1)).json
        b = _checkout(api, org, buyer_body(n=2, customer={"phone": "+14155550199"})).json
        clock.freeze()
        clock.advance(minutes=40)
        assert run_release_schedule()["released"] == 2
        # a pays late: a seat remains, it is sold
        stripe_events.session_completed("evt_a", completed(gateways.session_for(a["hold_id"])))
        # two new buyers take what is left, then b pays late: oversold, never dropped
        c = _checkout(api, org, buyer_body(n=3)).json
        stripe_events.session_completed("evt_c", completed(gateways.session_for(c["hold_id"])))
        stripe_events.session_completed("evt_b", completed(gateways.session_for(b["hold_id"])))
        stripe_events.session_completed("evt_b", completed(gateways.session_for(b["hold_id"])))  # again
        tier = _tier(api, org)
        assert (tier["sold"], tier["oversold"], tier["remaining"]) == (3, 1, -1)
        oversold = api.get(f"/events/{CITY}/registrations/oversold", token=org.token).json["items"]
        assert [r["email"] for r in oversold] == ["buyer2@shop.example.com"]
        assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
        notify(api.stack)
        staff = [m["Body"] for m in fake.sms if m["To"] == "+14155550100"]
        assert sum(s.startswith("OVERSOLD") for s in staff) == 1, [s[:12] for s in staff]
        assert sum(s.startswith("Sale") for s in staff) == 2
        for _ in range(3):
            told = api.post(f"/events/{CITY}/registrations/oversold/notify", token=org.token)
            assert told.status == 200, told.text
        assert told.json == {"notified": 0, "already_notified": 1}
        notify(api.stack)
        customer_sms = [m for m in fake.sms if m["To"] == "+14155550199"]
        assert len(customer_sms) == 1, fake.sms
        mails = [
            m for m in api.stack.sent_mail() if "buyer2@shop.example.com" in m.destinations["ToAddresses"]
        ]
        assert len(mails) == 1
        assert "sold out" in mails[0].body


def test_staff_alert_falls_back_to_email_when_sms_fails(api: Api, gateways: FakeGateways) -> None:
    _, org, _ = _world(api, ga=2)
    with fake_providers(api) as fake:
        hold = _checkout(api, org, buyer_body()).json
        stripe_events.session_completed("evt_1", completed(gateways.session_for(hold["hold_id"])))
        fake.twilio_fails = True
        notify(api.stack)
    mail = last_mail_to(api, "ops@sixfig.example.com")
    assert mail.subject.startswith("SMS Fallback Alert")
    assert "Sale: 1 GA" in mail.body


def test_five_concurrent_completed_webhooks_make_one_registration(api: Api, gateways: FakeGateways) -> None:
    serialize_dynamodb()
    _, org, _ = _world(api, ga=3)
    with fake_providers(api):
        hold = _checkout(api, org, buyer_body()).json
        session = completed(gateways.session_for(hold["hold_id"]))
        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(lambda n: stripe_events.session_completed(f"evt_{n}", session), range(5)))
    assert len(set(results)) == 1
    assert len(api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]) == 1
    assert (_tier(api, org)["sold"], _tier(api, org)["held"]) == (1, 0)


def test_a_rush_of_concurrent_buyers_never_oversells(api: Api, gateways: FakeGateways) -> None:
    serialize_dynamodb()
    _, org, _ = _world(api, ga=10)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda n: _checkout(api, org, buyer_body(n=n)), range(40)))
    assert len(gateways.sessions()) == 10
    codes = sorted((r.status, r.code) for r in replies)
    assert codes == [(201, None)] * 10 + [(409, "SAAS_061")] * 30
    tier = _tier(api, org)
    assert (tier["held"], tier["remaining"], tier["sold"]) == (10, 0, 0)
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
