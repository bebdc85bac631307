"""Checkout through the payments area: a signed Stripe `checkout.session.completed` arriving at
`stripe_webhook` (five times) becomes one registration; a signed `checkout.session.expired` gives
the seats back. The whole path: webhook, outbox, relay, gateway-events worker, checkout handlers."""

from __future__ import annotations

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
