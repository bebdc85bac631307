"""Publishing: outbox events go to the topic, with attributes the queues filter on, in batches.

`publish_many` sends up to 10 events per SNS PublishBatch call (and at most 256 KiB, SNS's limit
for a call) and returns the ids SNS did not accept, so the caller retries exactly those.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from keel.core import aws, clock, ids
from keel.core.config import settings
from keel.core.observability import logger
from keel.events import repo
from keel.store.outbox import DomainEvent, event_from_item

BATCH_ENTRIES = 10  # SNS PublishBatch's maximum
BATCH_BYTES = 256 * 1024  # SNS's limit for the messages and attributes of one call


def _entry(n: int, event: DomainEvent) -> dict[str, Any]:
    return {
        "Id": str(n),
        "Message": event.model_dump_json(),
        "MessageAttributes": {
            "event_type": {"DataType": "String", "StringValue": event.type},
            "tenant_id": {"DataType": "String", "StringValue": event.tenant_id},
            "event_id": {"DataType": "String", "StringValue": event.id},
        },
    }


def _size(entry: dict[str, Any]) -> int:
    attributes = sum(
        len(k) + len(v["DataType"]) + len(v["StringValue"]) for k, v in entry["MessageAttributes"].items()
    )
    return len(entry["Message"].encode()) + attributes


def _batches(events: list[DomainEvent]) -> Iterator[list[tuple[DomainEvent, dict[str, Any]]]]:
    batch: list[tuple[DomainEvent, dict[str, Any]]] = []
    size = 0
    for event in events:
        entry = _entry(len(batch), event)
        if batch and (len(batch) == BATCH_ENTRIES or size + _size(entry) > BATCH_BYTES):
            yield batch
            batch, size = [], 0
            entry = _entry(0, event)
        batch.append((event, entry))
        size += _size(entry)
    if batch:
        yield batch


def publish_many(events: list[DomainEvent]) -> set[str]:
    """Publishes `events`; returns the ids of those SNS refused (or that a failed call carried)."""
    from botocore.exceptions import BotoCoreError, ClientError

    sns = aws.client("sns")
    failed: set[str] = set()
    for batch in _batches(events):
        try:
            reply = sns.publish_batch(
                TopicArn=settings().event_topic_arn, PublishBatchRequestEntries=[e for _, e in batch]
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning(
                "publish batch failed", extra={"error_type": type(exc).__name__, "size": len(batch)}
            )
            failed |= {event.id for event, _ in batch}
            continue
        accepted = {ok["Id"] for ok in reply.get("Successful", [])}
        refused = [event for event, entry in batch if entry["Id"] not in accepted]
        for item in reply.get("Failed", []):
            logger.warning("event refused by SNS", extra={"code": item.get("Code"), "entry": item.get("Id")})
        failed |= {event.id for event in refused}
    return failed


def publish_and_mark(events: list[DomainEvent]) -> set[str]:
    """Publishes `events` and marks those SNS accepted (`repo.mark_published_many`); returns the
    ids to retry: refused by SNS, or published but left unmarked."""
    refused = publish_many(events)
    published = [event.id for event in events if event.id not in refused]
    return refused | repo.mark_published_many(published)


def sweep_pending(older_than: timedelta = timedelta(minutes=2), limit: int = 500) -> int:
    """Publishes events still pending after `older_than` (the relay missed them); returns how many."""
    cutoff = ids.ulid_bound(int((clock.now() - older_than).timestamp() * 1000), upper=True)
    done = 0
    cursor: str | None = None
    while done < limit:
        items, cursor = repo.pending_page(f"evt_{cutoff}", cursor)
        events = [event_from_item(item) for item in items]
        done += len(events) - len(publish_and_mark(events))
        if not cursor:
            break
    return done
