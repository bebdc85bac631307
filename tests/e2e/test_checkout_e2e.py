"""Issue 13 over HTTP against the running local stack: a workshop organiser's event in Dallas, the
public availability, checkouts until sold out (the next refused), one paid through a signed
`checkout.session.completed` at `stripe_webhook` (the registration visible, the seat sold), an
expansion with a reason, the audit; the staff SMS of the sale through the organiser's SMS channel
(the stack's fake Twilio), and the buyer's data exported and erased by e-mail. Stripe is the
stack's own fake (`make dev`'s), reached by the real SDK in the function."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from infra import gateway_events
from tests.e2e.client import PASSWORD, Api, Mailbox, actor_of, request, unique_email
from tests.support.checkout import buyer_body, event_body

pytestmark = pytest.mark.e2e


def test_event_sell_out_refuse_pay_expand_audit(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    slug = uuid.uuid4().hex[:8]
    email = unique_email("org", f"{slug}.example.com")
    created = api.post(
        "/tenants",
        {"name": f"Workshops {slug}", "kind": "workshop", "admin": {"email": email, "name": "Olu"}},
        token=str(local_stack["admin_token"]),
    )
    assert created.status == 201, str(created)
    token = mailbox.wait_for(email, "/activate?token=").link_token()
    org = actor_of(api.post("/auth/activate", {"token": token, "password": PASSWORD}), email)
    sms = api.call(  # as the README's walkthrough: any local credentials, the fake Twilio texts
        "PUT",
        "/notifications/channels",
        {
            "channel": "sms",
            "enabled": True,
            "settings": {"from_number": "+15005550006"},
            "credentials": {"account_sid": "AC00000000000000000000000000000001", "auth_token": "local-token"},
        },
        token=org.token,
    )
    assert sms.status == 200, str(sms)
    city = f"dallas-{slug}"
    assert api.post("/events", event_body(city, ga=3), token=org.token).status == 201

    inventory = f"{api.base_url}/public/{org.tenant_id}/events/{city}/inventory"
    shown = request("GET", inventory)
    assert shown.status == 200, str(shown)
    assert shown.json["tiers"]["GA"]["available"] == 3
    assert b"actual_limit" not in shown.body

    holds = []
    for n in range(3):
        sold = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(city, n=n))
        assert sold.status == 201, str(sold)
        assert sold.json["url"].startswith(local_stack["fake_gateway_url"] + "/c/pay/cs_")
        holds.append(sold.json["hold_id"])
    refused = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(city, n=9))
    assert (refused.status, refused.code) == (409, "SAAS_061")
    page = request("GET", sold.json["url"])  # the fake's checkout page names the command that pays
    assert b"infra.gateway_events checkout.session.completed --session cs_" in page.body

    # the first buyer pays: Stripe's signed event, five times at once, makes one registration
    _, replies = gateway_events.send(local_stack, "checkout.session.completed", hold=holds[0], times=5)
    assert [status for status, _ in replies] == [200] * 5
    registrations: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while not registrations and time.monotonic() < deadline:
        time.sleep(0.25)
        registrations = api.get(f"/events/{city}/registrations", token=org.token).json["items"]
    assert [(r["email"], r["status"]) for r in registrations] == [("buyer0@shop.example.com", "paid")]
    ga = api.get("/events", token=org.token).json["items"]
    tier = next(e for e in ga if e["city_id"] == city)["tiers"]["GA"]
    assert (tier["held"], tier["sold"]) == (2, 1)

    expanded = api.post(
        f"/events/{city}/inventory/expansions",
        {"tier": "GA", "additional_spots": 5, "reason": "Bigger room booked"},
        token=org.token,
    )
    assert expanded.status == 200, str(expanded)
    assert expanded.json["remaining"] == 5
    assert request("GET", inventory).json["tiers"]["GA"]["available"] == 5
    audit = api.get(f"/events/{city}/inventory/audit", token=org.token)
    assert audit.json["ok"] is True, str(audit)

    # the sale's staff alert went out as an SMS (the fake Twilio prints it on the console)
    deadline = time.monotonic() + 30
    texts: list[dict[str, Any]] = []
    while not texts and time.monotonic() < deadline:
        time.sleep(0.25)
        sent = request("GET", str(local_stack["fake_twilio_url"]) + "/_fake/state").json["sent"]
        texts = [m for m in sent if m["To"] == "+14155550100" and city in m.get("Body", "")]
    assert texts, "no staff SMS for the sale"

    # the buyer asks for their data, then its erasure: by e-mail, the ledger still adds up
    buyer = {"email": "buyer0@shop.example.com"}
    exported = api.post("/contact-data/export", buyer, token=org.token)
    assert sorted(r["kind"] for r in exported.json["buyer_records"]) == ["hold", "registration"], str(
        exported
    )
    erased = api.post("/contact-data/deletion", {**buyer, "reason": "GDPR request #12"}, token=org.token)
    assert erased.json["counts"] == {"buyer_records": 2, "payment_records": 0}, str(erased)
    [registration] = api.get(f"/events/{city}/registrations", token=org.token).json["items"]
    assert (registration["email"], registration["status"]) == (None, "paid")
    assert api.get(f"/events/{city}/inventory/audit", token=org.token).json["ok"] is True
