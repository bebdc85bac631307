"""Checkout (issue 13): events, public availability, holds, Stripe Checkout, registrations."""

from __future__ import annotations

from infra.local.fake_gateways import FakeGateways
from keel.checkout import stripe_events
from keel.core import clock
from tests.support.actors import super_admin
from tests.support.checkout import (
    CITY,
    buyer_body,
    completed,
    event_body,
    expired,
    fake_providers,
    notify,
    organiser,
    run_release_schedule,
)
from tests.support.http import Api

PUBLIC = "/public/{tenant}/events/{city}/inventory"


def _inventory(api: Api, tenant: str, city: str = CITY, **kw: object) -> object:
    return api.get(PUBLIC.format(tenant=tenant, city=city), **kw)


def test_sell_out_refuse_complete_expire_and_see_seats_return(api: Api, gateways: FakeGateways) -> None:
    root = super_admin(api)
    org = organiser(api, root)
    created = api.post("/events", event_body(ga=3, vip=2), token=org.token)
    assert created.status == 201, created.text
    assert created.json["tiers"]["GA"]["remaining"] == 3
    shown = api.get(PUBLIC.format(tenant=org.tenant_id, city=CITY))
    assert shown.status == 200, shown.text
    assert shown.json["tiers"]["GA"] == {
        "public_limit": 3,
        "available": 3,
        "sold_out": False,
        "price": 100000,
        "member_price": 85000,
    }
    assert "actual_limit" not in shown.text
    assert shown.headers["cache-control"].startswith("public, max-age=")
    again = api.get(
        PUBLIC.format(tenant=org.tenant_id, city=CITY), headers={"if-none-match": shown.headers["etag"]}
    )
    assert again.status == 304, again.text
    assert again.text == ""

    path = f"/public/{org.tenant_id}/checkout-sessions"
    with fake_providers(api) as fake:
        holds = []
        for n in range(3):
            reply = api.post(path, buyer_body(n=n))
            assert reply.status == 201, reply.text
            holds.append(reply.json)
        refused = api.post(path, buyer_body(n=9))
        assert (refused.status, refused.code) == (409, "SAAS_061")
        assert "sold out" in refused.json["error"]["message"]
        assert len(gateways.sessions()) == 3
        first = gateways.session_for(holds[0]["hold_id"])
        assert first["metadata"] == {
            "tenant_id": org.tenant_id,
            "city_id": CITY,
            "tier": "GA",
            "quantity": "1",
            "hold_id": holds[0]["hold_id"],
            "is_member": "false",
        }
        assert gateways.session_keys()[0] == f"keel-checkout-{holds[0]['hold_id']}"
        assert holds[0]["url"] == first["url"]
        public = _inventory(api, org.tenant_id).json["tiers"]["GA"]
        assert (public["available"], public["sold_out"]) == (0, True)

        # the first buyer pays: one registration, the staff told by SMS
        assert stripe_events.session_completed("evt_1", completed(first)) is not None
        regs = api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]
        assert [(r["email"], r["status"], r["amount_total"]) for r in regs] == [
            ("buyer0@shop.example.com", "paid", 100000)
        ]
        assert notify(api.stack) == 1
        assert [m["To"] for m in fake.sms] == ["+14155550100"]
        assert "Sale: 1 GA" in fake.sms[0]["Body"]
        assert "buyer0" not in fake.sms[0]["Body"]

        # the second buyer's session expires at Stripe: the seat returns at once
        stripe_events.session_expired("evt_2", expired(gateways.session_for(holds[1]["hold_id"])))
        assert _inventory(api, org.tenant_id).json["tiers"]["GA"]["available"] == 1
        # the third lets the hold run out: the schedule gives the seat back after 31 minutes
        assert run_release_schedule()["released"] == 0
        clock.freeze()
        clock.advance(minutes=32)
        assert run_release_schedule() == {"released": 1, "skipped": 0}
        assert run_release_schedule()["released"] == 0  # exactly once
        tier = api.get("/events", token=org.token).json["items"][0]["tiers"]["GA"]
        assert (tier["held"], tier["sold"], tier["remaining"]) == (0, 1, 2)
        assert api.post(path, buyer_body(n=10)).status == 201  # sellable again

    audit = api.get(f"/events/{CITY}/inventory/audit", token=org.token)
    assert audit.status == 200, audit.text
    assert audit.json["ok"] is True
    ops = [
        e["op"]
        for e in api.get(
            f"/events/{CITY}/inventory/transactions", token=org.token, query={"tier": "GA"}
        ).json["items"]
    ]
    assert sorted(ops) == sorted(["open", "hold", "hold", "hold", "sale", "release", "release", "hold"])
