"""Checkout buyers' contact data (no account, so no per-user export or erasure): erased by the
daily retention schedule BUYER_DATA_RETENTION_DAYS (90) after the event, once; amounts, counts and
the ledger stay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infra.apps import function_module
from infra.lambda_events import LambdaContext, scheduled_event
from infra.local.fake_gateways import FakeGateways
from keel.checkout import stripe_events
from keel.core import clock
from tests.support.actors import PASSWORD, super_admin
from tests.support.checkout import CITY, buyer_body, completed, event_body, organiser
from tests.support.http import Api


def _run() -> dict[str, Any]:
    module = function_module("functions/schedules/erase_buyer_data/")
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/erase-buyer-data")
    return dict(module.lambda_handler(event, LambdaContext("erase-buyer-data", timeout_seconds=300)))


def test_buyer_contact_data_is_erased_90_days_after_the_event_and_only_then(
    api: Api, gateways: FakeGateways
) -> None:
    clock.freeze(datetime(2026, 1, 10, 12, tzinfo=UTC))
    root = super_admin(api)
    org = organiser(api, root)
    assert api.post("/events", event_body(ga=5), token=org.token).status == 201  # on 2026-01-25
    later = "austin-jun-2026"
    assert api.post("/events", event_body(later, date="2026-06-01"), token=org.token).status == 201
    path = f"/public/{org.tenant_id}/checkout-sessions"
    paid = api.post(path, buyer_body(n=1, customer={"phone": "+14155550199"})).json
    api.post(path, buyer_body(n=2))  # a hold never paid: it carries contact data too
    api.post(path, buyer_body(later, n=3))
    stripe_events.session_completed("evt_1", completed(gateways.session_for(paid["hold_id"])))

    clock.advance(days=100)  # 2026-04-20: 85 days after the Dallas event
    assert _run() == {"events": 0, "items": 0}
    clock.advance(days=6)  # 91 days after
    assert _run() == {"events": 1, "items": 3}  # the registration and both holds
    assert _run() == {"events": 0, "items": 0}  # once

    token = api.post("/auth/login", {"email": org.email, "password": PASSWORD}).json["token"]  # 106 days on
    [registration] = api.get(f"/events/{CITY}/registrations", token=token).json["items"]
    assert registration["buyer_data_erased_at"]
    assert (registration["email"], registration["first_name"], registration["phone"]) == (None, None, None)
    assert (registration["amount_total"], registration["quantity"], registration["status"]) == (
        100000,
        1,
        "paid",
    )
    remaining = [
        i
        for i in api.stack.scan()
        if i.get("city_id") == CITY and i.get("entity") in ("hold", "registration")
    ]
    assert len(remaining) == 3
    assert not any(k in i for i in remaining for k in ("email", "first_name", "last_name", "phone"))
    # the later event keeps its buyers' data until its own time
    kept = [i for i in api.stack.scan() if i.get("city_id") == later and i.get("entity") == "hold"]
    assert [i["email"] for i in kept] == ["buyer3@shop.example.com"]
    assert api.get(f"/events/{CITY}/inventory/audit", token=token).json["ok"] is True
    logs = api.get("/audit-logs", token=token, query={"event_type": "buyer_data_erased"}).json["items"]
    assert [(r["target_id"], r["details"]["items"]) for r in logs] == [(CITY, 3)]
