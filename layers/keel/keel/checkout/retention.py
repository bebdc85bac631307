"""Buyers' contact data is kept for a while after the workshop, then erased (a daily schedule);
`erase_buyer_item` is the one erasure of it, also used by the privacy area's data requests
(`keel/checkout/buyers.py` finds one buyer's items by e-mail).

Retention: `BUYER_DATA_RETENTION_DAYS` (90) after an event's date, its registrations and holds lose
`first_name`, `last_name`, `email` and `phone` (quantities, amounts, statuses and ids stay, so the
ledger, the audit and the accounts still add up), each item marked `buyer_data_erased_at` and taken
off the buyer index, in transactions of at most 90 items; the last one takes the event off the
retention index (GSI1 `CHECKOUT#EVENTS_BY_DATE`) with its audit record. A run stopped half-way is
finished by the next one (removing what is gone already changes nothing).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from keel.checkout import repo
from keel.core import clock
from keel.core.principal import Principal
from keel.store.change import Change, Tx

BUYER_FIELDS = ("first_name", "last_name", "email", "phone")
CHUNK = 90


def retention_days() -> int:
    return int(os.environ.get("BUYER_DATA_RETENTION_DAYS", "90"))


def erase_buyer_item(tx: Tx, tenant_id: str, item: Mapping[str, Any], at: str) -> None:
    """The one erasure of a hold's or registration's contact data (on the caller's transaction):
    `BUYER_FIELDS` removed, `buyer_data_erased_at` set, the item off the buyer index; quantities,
    amounts, statuses and ids stay. Retention and the privacy area's data requests both use it."""
    repo.for_tenant(tenant_id).erase_buyer_fields(tx, item, BUYER_FIELDS, at)


def carries_buyer_data(item: Mapping[str, Any]) -> bool:
    return any(f in item for f in BUYER_FIELDS)


def erase_items(
    principal: Principal, tenant_id: str, items: list[dict[str, Any]], last: Callable[[Change], None]
) -> int:
    """Erases `items` in transactions of at most `CHUNK`; `last` adds its writes (the audit record,
    a marker) to the final one. The number of items changed."""
    items = [i for i in items if carries_buyer_data(i)]
    chunks = [items[n : n + CHUNK] for n in range(0, len(items), CHUNK)] or [[]]
    at = clock.iso()
    for n, chunk in enumerate(chunks):
        change = Change(principal)
        for item in chunk:
            erase_buyer_item(change.tx, tenant_id, item, at)
        if n == len(chunks) - 1:
            last(change)
        change.commit()
    return len(items)


def erase_event(tenant_id: str, city_id: str) -> int:
    """Erases the buyer contact data of one event; the number of items it changed."""
    checkout = repo.for_tenant(tenant_id)
    items = list(checkout.buyer_items(city_id))
    principal = Principal.system(tenant_id, job="erase_buyer_data")

    def last(change: Change) -> None:
        checkout.mark_buyer_data_erased(change.tx, city_id, clock.iso())
        change.audit(
            "checkout.buyer_data_erased",
            event_type="buyer_data_erased",
            tenant_id=tenant_id,
            target_type="event",
            target_id=city_id,
            details={"items": sum(map(carries_buyer_data, items)), "retention_days": retention_days()},
        )

    return erase_items(principal, tenant_id, items, last)


def erase_due() -> dict[str, int]:
    """The schedule: every event dated `retention_days()` ago or earlier whose buyers' data is kept."""
    cutoff = (clock.now() - timedelta(days=retention_days())).date().isoformat()
    events = items = 0
    for tenant_id, city_id in repo.events_held_until(cutoff):
        items += erase_event(tenant_id, city_id)
        events += 1
    return {"events": events, "items": items}
