"""Outbox relay: new outbox items on the table stream are published to the event topic.

Partial batch failures: a record that fails is retried (with those after it); the others are
not published twice by this function, and consumers de-duplicate anyway.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import logger, metrics, tracer
from keel.events.publish import publish_and_mark
from keel.store.outbox import event_from_image

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def relay(record: DynamoDBRecord) -> None:
    image = record.raw_event.get("dynamodb", {}).get("NewImage") or {}
    if record.raw_event.get("eventName") != "INSERT" or image.get("entity", {}).get("S") != "outbox":
        return  # the event source filter already drops these; stay safe if it is missing
    event = event_from_image(image)
    publish_and_mark(event)
    logger.info("event relayed", extra={"event_id": event.id, "event_type": event.type})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=relay, processor=processor, context=context)
    )
