"""Publishing: an outbox event goes to the topic with attributes the queues filter on."""

from __future__ import annotations

from datetime import timedelta

from keel.core import aws, clock, ids
from keel.core.config import settings
from keel.events import repo
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


def publish_and_mark(event: DomainEvent) -> None:
    publish(event)
    repo.mark_published(event.id)


def sweep_pending(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Publishes events still pending after `older_than` (the relay missed them); returns how many."""
    cutoff = ids.ulid_bound(int((clock.now() - older_than).timestamp() * 1000), upper=True)
    done = 0
    cursor: str | None = None
    while done < limit:
        items, cursor = repo.pending_page(f"evt_{cutoff}", cursor)
        for item in items:
            publish_and_mark(event_from_item(item))
            done += 1
        if not cursor:
            break
    return done
