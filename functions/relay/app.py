"""Outbox relay: new outbox items on the table stream are published to the event topic.

The batch's events go out through SNS PublishBatch (10 a call); those SNS accepted are then
marked published (one transaction for up to 100). A record SNS refused, or whose marking failed,
is reported as a batch item failure, so Lambda retries from it (re-publishing those after it too:
consumers de-duplicate); an item never marked stays in the pending index, where the sweep finds
it. Nothing is lost.
"""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger
from keel.events.publish import publish_and_mark
from keel.store.outbox import DomainEvent, event_from_image


def _outbox_event(record: dict[str, Any]) -> DomainEvent | None:
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("entity", {}).get("S") != "outbox":
        return None  # the event source filter already drops these; stay safe if it is missing
    return event_from_image(image)


def relay(records: list[dict[str, Any]]) -> list[str]:
    """Publishes the batch's outbox events; returns the sequence numbers of the records to retry."""
    retry: list[str] = []
    pending: list[tuple[str, DomainEvent]] = []
    for record in records:
        sequence = str(record["dynamodb"]["SequenceNumber"])
        try:
            event = _outbox_event(record)
        except Exception:
            logger.exception("unreadable outbox record", extra={"sequence_number": sequence})
            retry.append(sequence)
            continue
        if event is not None:
            pending.append((sequence, event))
    failed = publish_and_mark([event for _, event in pending])  # refused, or published but not marked
    retry += [sequence for sequence, event in pending if event.id in failed]
    published = [event.id for _, event in pending if event.id not in failed]
    logger.info("events relayed", extra={"event_ids": published, "retry": len(retry)})
    return retry


@handler(clients=("dynamodb", "sns"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    retry = relay(event.get("Records") or [])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}
