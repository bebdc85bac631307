"""Customers' e-mails on payments and invoices as personal data: one person's payments and invoices
in a tenant, found by e-mail with one Query of the payer index (GSI2, written with each payment and
invoice that carries a `customer_email`), for the privacy area's exports and erasures.

Erasure replaces the e-mail (and a name or phone, if an item has one) with the marker `erased` and
takes the item off the index; amounts, ids, statuses and dates stay, as bookkeeping needs them. A
later event about an erased payment keeps the marker (`ledger`). Refunds, subscriptions and billing
events carry no e-mail; the gateways' raw deliveries are redacted on receipt (`redaction`).
"""

from __future__ import annotations

from typing import Any

from keel.payments import repo
from keel.store.change import Tx

ERASED = repo.ERASED


def items_of(tenant_id: str, email: str) -> list[dict[str, Any]]:
    """The payments and invoices of `email` (case-folded) in the tenant still carrying it, as stored
    (keys included, for the erasure), oldest first."""
    found = repo.for_tenant(tenant_id).payer_items_of(email)
    return sorted(
        (i for i in found if i.get("entity") in ("payment", "invoice")),
        key=lambda i: (str(i.get("created_at")), str(i["SK"])),
    )


def exported(item: dict[str, Any]) -> dict[str, Any]:
    """A payment or invoice as a data export shows it: what was paid, when, and how it stands (no
    card data, no table keys)."""
    payment = item.get("entity") == "payment"
    return {
        "kind": item.get("entity"),
        "id": item.get("payment_id") if payment else item.get("invoice_id"),
        "amount": int(item.get("amount" if payment else "amount_due") or 0),
        "currency": item.get("currency"),
        "status": item.get("status"),
        "created_at": item.get("created_at"),
    }


def erase(tx: Tx, tenant_id: str, item: dict[str, Any]) -> None:
    """The one erasure of a payment's or invoice's customer data, on the caller's transaction."""
    repo.for_tenant(tenant_id).erase_payer_fields(tx, item)
