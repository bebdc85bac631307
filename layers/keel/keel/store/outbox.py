"""Domain events, written as outbox items in the same transaction as the change that causes them.

The table's stream carries each new outbox item to the relay, which publishes it to the event
topic and clears its `pending` mark; a schedule re-publishes any item left pending (relay down
longer than the stream keeps records). Consumers de-duplicate on the event id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keel.core import clock, ids
from keel.core.model import Model
from keel.store import keys

RETENTION = timedelta(days=7)


class DomainEvent(Model):
    """The envelope every consumer receives (as the SNS message body)."""

    id: str
    type: str
    tenant_id: str
    occurred_at: str
    data: dict[str, Any]


def new_event(event_type: str, tenant_id: str, data: dict[str, Any]) -> DomainEvent:
    return DomainEvent(
        id=ids.new_id("evt"), type=event_type, tenant_id=tenant_id, occurred_at=clock.iso(), data=data
    )


def outbox_item(event: DomainEvent) -> dict[str, Any]:
    return {
        "PK": keys.outbox_pk(event.id),
        "SK": keys.OUTBOX_SK,
        "entity": "outbox",
        "GSI1PK": keys.OUTBOX_PENDING_INDEX_PK,
        "GSI1SK": event.id,
        "event": event.model_dump(),
        "expires_at": int((clock.now() + RETENTION).timestamp()),
    }


def event_from_item(item: dict[str, Any]) -> DomainEvent:
    return DomainEvent.model_validate(item["event"])


def event_from_image(image: dict[str, Any]) -> DomainEvent:
    """The event of an outbox item as the table's stream carries it (DynamoDB JSON)."""
    from keel.store.table import deserialize

    return event_from_item(deserialize(image))
