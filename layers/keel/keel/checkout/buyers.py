"""Buyers' contact data as personal data: one buyer's holds and registrations in a tenant, found by
e-mail with one Query of the buyer index (GSI2, written with each hold and registration), for the
privacy area's exports and erasures. Erasure itself is retention's (`retention.erase_buyer_item`):
contact fields go, quantities, amounts, statuses and ids stay, so the ledger still adds up."""

from __future__ import annotations

from typing import Any

from keel.checkout import repo
from keel.checkout.retention import carries_buyer_data

_KEYS = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"}


def items_of(tenant_id: str, email: str) -> list[dict[str, Any]]:
    """The holds and registrations of `email` (case-folded) in the tenant that still carry contact
    data, as stored (keys included, for the erasure)."""
    return [i for i in repo.for_tenant(tenant_id).buyer_items_of(email) if carries_buyer_data(i)]


def exported(item: dict[str, Any]) -> dict[str, Any]:
    """A hold or registration as a data export shows it: its kind and fields, no table keys."""
    return {"kind": item.get("entity"), **{k: v for k, v in item.items() if k not in _KEYS | {"entity"}}}
