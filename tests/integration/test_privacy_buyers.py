"""Checkout buyers' contact data in data requests: found by e-mail (one Query of the buyer index),
exported and erased with the user's data, or as a contact known only by e-mail; erasure keeps
quantities, amounts and ids, so the inventory ledger still adds up."""

from __future__ import annotations

from typing import Any

from infra.local.fake_gateways import FakeGateways
from keel.checkout import buyers, stripe_events
from keel.core import clock
from tests.support.actors import super_admin
from tests.support.checkout import (
    CITY,
    buyer_body,
    completed,
    event_body,
    fake_providers,
    organiser,
    run_release_schedule,
)
from tests.support.http import Api
from tests.support.people import member
from tests.support.pipeline import Pipeline

BUYER = "buyer0@shop.example.com"


def _holding(api: Api, tenant_id: str, email: str) -> list[dict[str, Any]]:
    return [
        i
        for i in api.stack.scan()
        if i.get("entity") in ("hold", "registration")
        and i["PK"] == f"T#{tenant_id}"
        and i.get("email") == email
    ]


def test_a_contact_is_exported_and_erased_by_email_in_its_tenant_only(
    api: Api, gateways: FakeGateways
) -> None:
    root = super_admin(api)
    org = organiser(api, root)
    rival = organiser(api, root, "Other Workshops", "org@other.example.com")
    staff = member(api, org, "em@sixfig.example.com", role="event_manager")
    for who in (org, rival):
        assert api.post("/events", event_body(), token=who.token).status == 201
    path = f"/public/{org.tenant_id}/checkout-sessions"
    paid = api.post(path, buyer_body(n=0, customer={"phone": "+14155550199"})).json
    api.post(path, buyer_body(n=0, quantity=2))  # an open hold of the same buyer
    api.post(path, buyer_body(n=1))  # someone else
    assert api.post(f"/public/{rival.tenant_id}/checkout-sessions", buyer_body(n=0)).status == 201
    stripe_events.session_completed("evt_1", completed(gateways.session_for(paid["hold_id"])))

    # one Query of the buyer index finds the buyer's holds and registration, case-folded
    found = buyers.items_of(org.tenant_id, "Buyer0@Shop.Example.com")
    assert sorted(i["entity"] for i in found) == ["hold", "hold", "registration"]

    exported = api.post("/contact-data/export", {"email": "BUYER0@shop.example.com"}, token=org.token)
    assert exported.status == 200, exported.text
    records = exported.json["buyer_records"]
    assert sorted((r["kind"], r["quantity"]) for r in records) == [
        ("hold", 1),
        ("hold", 2),
        ("registration", 1),
    ]
    assert {r["email"] for r in records} == {BUYER}
    assert "GSI2PK" not in exported.text
    assert "T#" not in exported.text
    logs = api.get("/audit-logs", token=org.token, query={"event_type": "data_exported"}).json["items"]
    assert [(r["target_type"], r["details"]) for r in logs] == [
        ("contact", {"buyer_records": 3, "payment_records": 0})
    ]

    # refused: no permission, another tenant named outright, bad input; nothing written
    before = api.stack.scan()
    body = {"email": BUYER, "reason": "GDPR request #9"}
    assert api.post("/contact-data/export", {"email": BUYER}, token=staff.token).code == "SAAS_001"
    assert api.post("/contact-data/deletion", body, token=staff.token).code == "SAAS_001"
    named = api.post("/contact-data/deletion", body, token=rival.token, query={"tenant_id": org.tenant_id})
    assert named.status == 404
    assert BUYER not in named.text
    bad = api.post("/contact-data/deletion", {"email": "not-an-email", "reason": "GDPR"}, token=org.token)
    assert (bad.status, bad.code, bad.json["error"]["details"][0]["field"]) == (422, "API_007", "email")
    short = api.post("/contact-data/deletion", {"email": BUYER, "reason": "x"}, token=org.token)
    assert (short.status, short.json["error"]["details"][0]["field"]) == (422, "reason")
    assert api.stack.scan() == before

    # the rival's own request reaches only the rival's buyer
    theirs = api.post("/contact-data/deletion", body, token=rival.token)
    assert theirs.status == 200, theirs.text
    assert theirs.json["counts"] == {"buyer_records": 1, "payment_records": 0}
    assert _holding(api, rival.tenant_id, BUYER) == []
    assert len(_holding(api, org.tenant_id, BUYER)) == 3

    erased = api.post("/contact-data/deletion", body, token=org.token)
    assert erased.status == 200, erased.text
    entry = erased.json
    assert (entry["subject"], entry["user_id"], entry["counts"]) == (
        "contact",
        None,
        {"buyer_records": 3, "payment_records": 0},
    )
    assert _holding(api, org.tenant_id, BUYER) == []
    assert len(_holding(api, org.tenant_id, "buyer1@shop.example.com")) == 1  # someone else's stays
    mine = [
        i
        for i in api.stack.scan()
        if i["PK"] == f"T#{org.tenant_id}" and i.get("hold_id") in {paid["hold_id"]}
    ]
    assert all("GSI2PK" not in i and i["buyer_data_erased_at"] for i in mine)
    assert not any(BUYER in str(i) for i in api.stack.scan() if org.tenant_id in str(i.get("PK")))
    [registration] = api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]
    assert (registration["email"], registration["phone"], registration["first_name"]) == (None, None, None)
    assert (registration["amount_total"], registration["quantity"], registration["status"]) == (
        100000,
        1,
        "paid",
    )
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
    log = api.get("/deletion-log", token=org.token).json["items"]
    assert [(e["subject"], e["reason"]) for e in log] == [("contact", "GDPR request #9")]
    deleted = api.get("/audit-logs", token=org.token, query={"event_type": "data_deleted"}).json["items"]
    assert [(r["target_type"], r["target_id"]) for r in deleted] == [("contact", entry["log_id"])]
    # asked again: nothing left to find
    again = api.post("/contact-data/export", {"email": BUYER}, token=org.token)
    assert again.json["buyer_records"] == []


def test_a_users_export_and_erasure_include_their_buyer_records(api: Api, gateways: FakeGateways) -> None:
    root = super_admin(api)
    org = organiser(api, root)
    email = "buyer5@shop.example.com"
    user = member(api, org, email, role="event_manager")
    assert api.post("/events", event_body(), token=org.token).status == 201
    paid = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(n=5)).json
    stripe_events.session_completed("evt_5", completed(gateways.session_for(paid["hold_id"])))

    doc = api.get(f"/users/{user.user_id}/data-export", token=org.token).json
    assert sorted(r["kind"] for r in doc["buyer_records"]) == ["hold", "registration"]
    assert {r["hold_id"] for r in doc["buyer_records"]} == {paid["hold_id"]}

    reply = api.post(f"/users/{user.user_id}/data-deletion", {"reason": "GDPR request #10"}, token=org.token)
    assert reply.status == 200, reply.text
    assert "buyer_records" in reply.json["deleted"]
    assert reply.json["counts"]["buyer_records"] == 2
    assert _holding(api, org.tenant_id, email) == []
    [registration] = api.get(f"/events/{CITY}/registrations", token=org.token).json["items"]
    assert (registration["email"], registration["quantity"], registration["amount_total"]) == (
        None,
        1,
        100000,
    )
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True


def test_an_erased_oversold_buyer_is_not_written_to_and_the_notifier_does_not_fail(
    api: Api, gateways: FakeGateways
) -> None:
    root = super_admin(api)
    org = organiser(api, root)
    assert api.post("/events", event_body(ga=1), token=org.token).status == 201
    path = f"/public/{org.tenant_id}/checkout-sessions"
    with fake_providers(api) as fake:
        late = api.post(path, buyer_body(n=1, customer={"phone": "+14155550199"})).json
        clock.freeze()
        clock.advance(minutes=40)
        assert run_release_schedule()["released"] == 1
        other = api.post(path, buyer_body(n=2)).json
        stripe_events.session_completed("evt_2", completed(gateways.session_for(other["hold_id"])))
        stripe_events.session_completed("evt_1", completed(gateways.session_for(late["hold_id"])))  # oversold
        body = {"email": "buyer1@shop.example.com", "reason": "GDPR request #11"}
        assert api.post("/contact-data/deletion", body, token=org.token).json["counts"] == {
            "buyer_records": 2,
            "payment_records": 0,
        }
        told = api.post(f"/events/{CITY}/registrations/oversold/notify", token=org.token)
        assert told.json == {"notified": 1, "already_notified": 0}
        pipeline = Pipeline(api.stack)
        pipeline.relay()
        results = []
        while True:
            n, result = pipeline.work("CheckoutNotifyQueue", "functions/workers/checkout_notifier/")
            if not n:
                break
            results.append(result)
        assert results
        assert all(r["batchItemFailures"] == [] for r in results)
        assert not [m for m in fake.sms if m["To"] == "+14155550199"]
    assert api.get(f"/events/{CITY}/inventory/audit", token=org.token).json["ok"] is True
