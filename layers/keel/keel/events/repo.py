"""Outbox items as the relay and the sweep see them (they are written by `store.outbox` inside
each change's transaction). The only code here that reads or updates them."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.store import keys, table


def mark_published(event_id: str) -> None:
    """Takes the item out of the pending index; publishing again later is harmless."""
    with suppress(KeelError):  # the item has expired or was reaped: nothing left to mark
        table.update(
            keys.outbox_pk(event_id),
            keys.OUTBOX_SK,
            "SET published_at = :now REMOVE GSI1PK, GSI1SK",
            values={":now": clock.iso()},
            condition="attribute_exists(PK)",
        )


def pending_page(up_to_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of outbox items still pending, ids up to `up_to_id` (oldest first)."""
    page = table.query(
        keys.OUTBOX_PENDING_INDEX_PK, index="GSI1", sk_between=("evt_0", up_to_id), cursor=cursor
    )
    return page.items, page.next_cursor
