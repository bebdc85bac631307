"""Payments and invoices in data requests: a payment arriving through the signed Stripe webhook
carries the customer's e-mail; it is found by that e-mail (the payer index, one Query), exported,
and erased with the user's data or a contact's: the e-mail gives way to `erased`, amounts, ids,
statuses and dates stay. Another tenant's payments under the same e-mail are untouched."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.fake_gateways import FakeGateways
from keel.core.errors import ErrorCode, KeelError
from keel.payments import payers
from keel.payments import repo as billing
from keel.payments.models import Payment
from keel.store.change import Tx
from tests.support import gateways as gw
from tests.support.actors import Actor, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member
from tests.support.stack import Stack

EMAIL = "pat.payer@example.com"


def _pay(
    api: Api, stack: Stack, tenant_id: str, pi: str, amount: int, email: str, created: int = 1000
) -> None:
    obj = gw.intent(pi, tenant_id, amount, f"INV-{pi}", receipt_email=email)
    reply = gw.send_stripe(
        api, gw.stripe_event(f"evt_{pi}_{created}", "payment_intent.succeeded", obj, created)
    )
    assert reply.status == 200, reply.text
    gw.apply_events(stack)


def _carrying(stack: Stack, email: str) -> list[dict[str, Any]]:
    return [i for i in stack.scan() if email.lower() in str(i).lower()]


def _world(api: Api) -> tuple[Actor, Actor, Actor]:
    root = super_admin(api)
    return (
        root,
        tenant_admin(api, root),
        tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com"),
    )


def test_a_users_export_lists_their_payments_and_erasure_scrubs_them(
    api: Api, stack: Stack, gateways: FakeGateways
) -> None:
    _, boss, other = _world(api)
    user = member(api, boss, EMAIL, name="Pat Payer")
    clerk = member(api, boss, "clerk@acme.example.com", role="cashier")
    _pay(api, stack, boss.tenant_id, "pi_mine", 5000, "Pat.Payer@Example.com")  # case-folded
    _pay(api, stack, boss.tenant_id, "pi_else", 700, "someone@example.com")
    _pay(api, stack, other.tenant_id, "pi_theirs", 900, EMAIL)
    [mine] = [p for p in api.get("/payments", token=boss.token).json["items"] if p["amount"] == 5000]

    doc = api.get(f"/users/{user.user_id}/data-export", token=boss.token)
    assert doc.status == 200, doc.text
    records = doc.json["payment_records"]
    assert sorted((r["kind"], r["id"], r["amount"], r["currency"], r["status"]) for r in records) == [
        ("invoice", "INV-pi_mine", 5000, "USD", "paid"),
        ("payment", mine["payment_id"], 5000, "USD", "succeeded"),
    ]
    assert all(set(r) == {"kind", "id", "amount", "currency", "status", "created_at"} for r in records)
    assert "GSI2" not in doc.text
    assert "#PAYER#" not in doc.text

    # refused without the permission; nothing written
    before = stack.scan()
    assert api.get(f"/users/{user.user_id}/data-export", token=clerk.token).code == "SAAS_001"
    denied = api.post(
        f"/users/{user.user_id}/data-deletion", {"reason": "GDPR request #7"}, token=clerk.token
    )
    assert (denied.status, denied.code) == (403, "SAAS_001")
    assert stack.scan() == before

    stale = billing.for_tenant(boss.tenant_id).payment_item(mine["payment_id"])  # a writer's read
    assert stale is not None
    reply = api.post(f"/users/{user.user_id}/data-deletion", {"reason": "GDPR request #7"}, token=boss.token)
    assert reply.status == 200, reply.text
    assert reply.json["deleted"].index("payment_records") == reply.json["deleted"].index("buyer_records") + 1
    assert reply.json["counts"]["payment_records"] == 2  # the payment and its invoice

    # the e-mail is nowhere in the tenant; the other tenant's payment and invoice keep it
    left = _carrying(stack, EMAIL)
    assert {(i["PK"], i["entity"]) for i in left} == {
        (f"T#{other.tenant_id}", "payment"),
        (f"T#{other.tenant_id}", "invoice"),
    }
    # the books still add up: amounts, ids, statuses and dates stay
    payment = api.get(f"/payments/{mine['payment_id']}", token=boss.token).json
    assert (payment["customer_email"], payment["amount"], payment["status"]) == ("erased", 5000, "succeeded")
    assert (payment["created_at"], payment["invoice_id"]) == (mine["created_at"], "INV-pi_mine")
    invoice = api.get("/invoices/INV-pi_mine", token=boss.token).json
    assert (invoice["customer_email"], invoice["amount_paid"], invoice["status"]) == ("erased", 5000, "paid")
    others = {p["amount"]: p["customer_email"] for p in api.get("/payments", token=boss.token).json["items"]}
    assert others == {5000: "erased", 700: "someone@example.com"}
    assert payers.items_of(boss.tenant_id, EMAIL) == []
    assert len(payers.items_of(other.tenant_id, EMAIL)) == 2

    # a writer that read before the erasure cannot put the e-mail back (it reads again: SAAS_011)
    tx = Tx()
    version = int(stale["version"])
    again = Payment.model_validate({k: v for k, v in stale.items() if k in Payment.model_fields})
    billing.for_tenant(boss.tenant_id).put_payment(tx, again, version + 1, version)
    with pytest.raises(KeelError) as refused:
        tx.commit()
    assert refused.value.code is ErrorCode.SAAS_011
    # a later event about the erased payment does not bring the e-mail back
    _pay(api, stack, boss.tenant_id, "pi_mine", 5000, EMAIL, created=2000)
    assert {i["PK"] for i in _carrying(stack, EMAIL)} == {f"T#{other.tenant_id}"}
    assert api.get(f"/payments/{mine['payment_id']}", token=boss.token).json["customer_email"] == "erased"
    assert payers.items_of(boss.tenant_id, EMAIL) == []


def test_a_contact_without_an_account_has_its_payments_exported_and_erased(
    api: Api, stack: Stack, gateways: FakeGateways
) -> None:
    _, boss, other = _world(api)
    clerk = member(api, boss, "clerk@acme.example.com", role="cashier")
    _pay(api, stack, boss.tenant_id, "pi_a", 1200, EMAIL)
    _pay(api, stack, boss.tenant_id, "pi_b", 3400, EMAIL)
    _pay(api, stack, other.tenant_id, "pi_c", 900, EMAIL)

    exported = api.post("/contact-data/export", {"email": "PAT.PAYER@example.com"}, token=boss.token)
    assert exported.status == 200, exported.text
    records = exported.json["payment_records"]
    assert sorted((r["kind"], r["amount"], r["status"]) for r in records) == [
        ("invoice", 1200, "paid"),
        ("invoice", 3400, "paid"),
        ("payment", 1200, "succeeded"),
        ("payment", 3400, "succeeded"),
    ]
    assert exported.json["buyer_records"] == []

    body = {"email": EMAIL, "reason": "GDPR request #8"}
    before = stack.scan()
    assert api.post("/contact-data/export", {"email": EMAIL}, token=clerk.token).code == "SAAS_001"
    assert api.post("/contact-data/deletion", body, token=clerk.token).code == "SAAS_001"
    named = api.post("/contact-data/deletion", body, token=other.token, query={"tenant_id": boss.tenant_id})
    assert named.status == 404
    assert stack.scan() == before

    erased = api.post("/contact-data/deletion", body, token=boss.token)
    assert erased.status == 200, erased.text
    assert (erased.json["subject"], erased.json["counts"]) == (
        "contact",
        {"buyer_records": 0, "payment_records": 4},
    )
    assert {i["PK"] for i in _carrying(stack, EMAIL)} == {f"T#{other.tenant_id}"}
    kept = sorted(
        (p["amount"], p["status"], p["customer_email"])
        for p in api.get("/payments", token=boss.token).json["items"]
    )
    assert kept == [(1200, "succeeded", "erased"), (3400, "succeeded", "erased")]
    assert {i["customer_email"] for i in api.get("/invoices", token=boss.token).json["items"]} == {"erased"}
    theirs = api.post("/contact-data/export", {"email": EMAIL}, token=other.token).json["payment_records"]
    assert len(theirs) == 2

    # asked again: nothing left to find or erase
    assert api.post("/contact-data/export", {"email": EMAIL}, token=boss.token).json["payment_records"] == []
    again = api.post("/contact-data/deletion", body, token=boss.token)
    assert again.json["counts"] == {"buyer_records": 0, "payment_records": 0}
    log = api.get("/deletion-log", token=boss.token).json["items"]
    assert [e["counts"]["payment_records"] for e in log] == [0, 4]
