"""Outbox items as the relay and the sweep see them (they are written by `store.outbox` inside
each change's transaction). The only code here that reads or updates them."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.store import keys, table

MARK = "SET published_at = :now REMOVE GSI1PK, GSI1SK"
EXISTS = "attribute_exists(PK)"


def mark_published(event_id: str) -> None:
    """Takes the item out of the pending index; publishing again later is harmless."""
    with suppress(KeelError):  # the item has expired or was reaped: nothing left to mark
        table.update(
            keys.outbox_pk(event_id), keys.OUTBOX_SK, MARK, values={":now": clock.iso()}, condition=EXISTS
        )


def mark_published_many(event_ids: list[str]) -> set[str]:
    """Marks events published, up to 100 in one TransactWriteItems; returns the ids left unmarked.

    A refused transaction (an item expired or reaped, a concurrent write) falls back to one
    update per item for its chunk (`table.commit_each`), so one missing item does not leave the
    others pending; an item that no longer exists has nothing left to mark.
    """
    now = clock.iso()
    units = [
        table.Tx().update(
            keys.outbox_pk(event_id), keys.OUTBOX_SK, MARK, values={":now": now}, condition=EXISTS
        )
        for event_id in event_ids
    ]
    results = table.commit_each(units)
    return {
        event_id
        for event_id, error in zip(event_ids, results, strict=True)
        if error is not None and not isinstance(error, KeelError)
    }


def pending_page(up_to_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of outbox items still pending, ids up to `up_to_id` (oldest first)."""
    page = table.query(
        keys.OUTBOX_PENDING_INDEX_PK, index="GSI1", sk_between=("evt_0", up_to_id), cursor=cursor
    )
    return page.items, page.next_cursor
