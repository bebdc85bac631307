"""Publishing: an outbox event goes to the topic with attributes the queues filter on."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from keel.core import aws, clock, ids
from keel.core.config import settings
from keel.core.errors import KeelError
from keel.store import keys, table
from keel.store.outbox import DomainEvent, event_from_item


def publish(event: DomainEvent) -> None:
    aws.client("sns").publish(
        TopicArn=settings().event_topic_arn,
        Message=event.model_dump_json(),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": event.type},
            "tenant_id": {"DataType": "String", "StringValue": event.tenant_id},
            "event_id": {"DataType": "String", "StringValue": event.id},
        },
    )


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


def publish_and_mark(event: DomainEvent) -> None:
    publish(event)
    mark_published(event.id)


def sweep_pending(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Publishes events still pending after `older_than` (the relay missed them); returns how many."""
    cutoff = ids.ulid_bound(int((clock.now() - older_than).timestamp() * 1000), upper=True)
    done = 0
    cursor: str | None = None
    while done < limit:
        page = table.query(
            keys.OUTBOX_PENDING_INDEX_PK, index="GSI1", sk_between=("evt_0", f"evt_{cutoff}"), cursor=cursor
        )
        for item in page.items:
            publish_and_mark(event_from_item(item))
            done += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return done
