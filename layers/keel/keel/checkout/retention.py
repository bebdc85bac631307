"""Buyers' contact data is kept for a while after the workshop, then erased (a daily schedule).

Buyers have no account: a hold and its registration carry the name, e-mail and phone the buyer
typed, nothing ties them to a user, and the privacy area's export and erasure work per user. So
instead of matching e-mail addresses, a retention rule: `BUYER_DATA_RETENTION_DAYS` (90) after an
event's date, its registrations and holds lose `first_name`, `last_name`, `email` and `phone`
(quantities, amounts, statuses and ids stay, so the ledger, the audit and the accounts still add
up), each item marked `buyer_data_erased_at`, in transactions of at most 90 items; the last one takes
the event off the retention index (GSI1 `CHECKOUT#EVENTS_BY_DATE`) with its audit record. A run
stopped half-way is finished by the next one (removing what is gone already changes nothing).
"""

from __future__ import annotations

import os
from datetime import timedelta

from keel.checkout import repo
from keel.core import clock
from keel.core.principal import Principal
from keel.store.change import Change

BUYER_FIELDS = ("first_name", "last_name", "email", "phone")
CHUNK = 90


def retention_days() -> int:
    return int(os.environ.get("BUYER_DATA_RETENTION_DAYS", "90"))


def erase_event(tenant_id: str, city_id: str) -> int:
    """Erases the buyer contact data of one event; the number of items it changed."""
    checkout = repo.for_tenant(tenant_id)
    items = [i for i in checkout.buyer_items(city_id) if any(f in i for f in BUYER_FIELDS)]
    chunks = [items[n : n + CHUNK] for n in range(0, len(items), CHUNK)] or [[]]
    at = clock.iso()
    principal = Principal.system(tenant_id, job="erase_buyer_data")
    for n, chunk in enumerate(chunks):
        change = Change(principal)
        for item in chunk:
            checkout.erase_buyer_fields(change.tx, item, BUYER_FIELDS, at)
        if n == len(chunks) - 1:
            checkout.mark_buyer_data_erased(change.tx, city_id, at)
            change.audit(
                "checkout.buyer_data_erased",
                event_type="buyer_data_erased",
                tenant_id=tenant_id,
                target_type="event",
                target_id=city_id,
                details={"items": len(items), "retention_days": retention_days()},
            )
        change.commit()
    return len(items)


def erase_due() -> dict[str, int]:
    """The schedule: every event dated `retention_days()` ago or earlier whose buyers' data is kept."""
    cutoff = (clock.now() - timedelta(days=retention_days())).date().isoformat()
    events = items = 0
    for tenant_id, city_id in repo.events_held_until(cutoff):
        items += erase_event(tenant_id, city_id)
        events += 1
    return {"events": events, "items": items}
