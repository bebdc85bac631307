"""Checkout through the payments area: a signed Stripe `checkout.session.completed` arriving at
`stripe_webhook` (five times) becomes one registration; a signed `checkout.session.expired` gives
the seats back. The whole path: webhook, outbox, relay, gateway-events worker, checkout handlers."""

from __future__ import annotations

import json

from infra.local.fake_gateways import FakeGateways
from tests.support import gateways as gw
from tests.support.actors import super_admin
from tests.support.checkout import CITY, buyer_body, completed, event_body, expired, organiser
from tests.support.http import Api


def _tier(api: Api, token: str) -> dict[str, int]:
    tiers = api.get("/events", token=token).json["items"][0]["tiers"]
    return {k: tiers["GA"][k] for k in ("held", "sold", "remaining")}


def test_signed_stripe_events_complete_and_expire_holds_once(api: Api, gateways: FakeGateways) -> None:
    root = super_admin(api)
    org = organiser(api, root)
    assert api.post("/events", event_body(ga=3), token=org.token).status == 201
    paid = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(n=1)).json
    dropped = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(n=2)).json
    paid_session = completed(gateways.session_for(paid["hold_id"]))
    dropped_session = expired(gateways.session_for(dropped["hold_id"]))
    assert _tier(api, org.token) == {"held": 2, "sold": 0, "remaining": 1}

    payload = gw.stripe_event("evt_cs_paid", "checkout.session.completed", paid_session)
    for _ in range(5):  # Stripe retries; every delivery is answered 200
        assert gw.send_stripe(api, payload).status == 200
    gone = gw.stripe_event("evt_cs_gone", "checkout.session.expired", dropped_session)
    assert gw.send_stripe(api, gone).status == 200
    gw.apply_events(api.stack)

    registrations = api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]
    assert len(registrations) == 1
    assert _tier(api, org.token) == {"held": 0, "sold": 1, "remaining": 2}
    # a forged event (wrong secret) changes nothing
    forged = gw.stripe_event("evt_forged", "checkout.session.completed", completed(dropped_session))
    assert gw.send_stripe(api, forged, gw.stripe_header(forged, secret="whsec_wrong")).status == 401
    gw.apply_events(api.stack)
    assert len(api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]) == 1


def test_stored_checkout_deliveries_keep_no_buyer_personal_data(api: Api, gateways: FakeGateways) -> None:
    """A signed `checkout.session.completed` carrying the buyer's e-mail, name, phone and address
    (as Stripe sends them: `customer_email`, `customer_details`, `shipping_details`) is stored
    without them, as the API shows it and as the table holds it; the registration is still made,
    once, with the contact data the buyer gave checkout (its hold), which stays erasable there."""
    root = super_admin(api)
    org = organiser(api, root)
    assert api.post("/events", event_body(ga=3), token=org.token).status == 201
    hold = api.post(
        f"/public/{org.tenant_id}/checkout-sessions", buyer_body(n=7, customer={"phone": "+14155550177"})
    ).json
    address = {"line1": "12 Marina Road", "city": "Lagos", "postal_code": "101241", "country": "NG"}
    session = {
        **completed(gateways.session_for(hold["hold_id"])),
        "customer_email": "buyer7@shop.example.com",
        "customer_details": {
            "email": "buyer7@shop.example.com",
            "name": "Adaeze Okonkwo",
            "phone": "+2348030000007",
            "address": address,
            "tax_exempt": "none",
        },
        "shipping_details": {"name": "Adaeze Okonkwo", "address": address},
    }
    payload = gw.stripe_event("evt_cs_pii", "checkout.session.completed", session)
    for _ in range(2):
        assert gw.send_stripe(api, payload).status == 200
    gw.apply_events(api.stack)

    personal = ("buyer7@shop.example.com", "Adaeze", "Okonkwo", "+2348030000007", "Marina Road", "101241")
    shown = api.get("/gateway-events", token=root.token).json["items"]
    assert sorted(r["processing"] for r in shown) == ["applied", "duplicate"]
    stored = api.stack.entities("gateway_event")
    assert len(stored) == 2
    for text in [r["body"] for r in shown] + [json.dumps(i, default=str) for i in stored]:
        assert not [p for p in personal if p in text], text
    body = json.loads(shown[0]["body"])["data"]["object"]
    assert body["customer_email"] == body["customer_details"] == body["shipping_details"] == "[redacted]"
    assert (body["id"], body["payment_status"], body["metadata"]["hold_id"]) == (
        session["id"],
        "paid",
        hold["hold_id"],
    )
    # what Stripe alone knew (the name, phone and address it collected) is nowhere in the table
    everything = json.dumps(api.stack.scan(), default=str)
    assert not [p for p in personal[1:] if p in everything]
    # the registration: once, with the buyer's contact data from the hold
    [registration] = api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]
    assert (registration["email"], registration["first_name"], registration["last_name"]) == (
        "buyer7@shop.example.com",
        "Buyer",
        "No7",
    )
    assert registration["status"] == "paid"
    assert _tier(api, org.token) == {"held": 0, "sold": 1, "remaining": 2}
