"""Worker: a domain event -> one webhook message per subscribed endpoint (SQS batch, partial failures)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.model import build
from keel.core.observability import handler
from keel.store.outbox import DomainEvent
from keel.webhooks import messages
from keel.webhooks.fanout import fan_out

processor = BatchProcessor(event_type=EventType.SQS)
EVENT_TYPES = frozenset(messages.subscribable())  # = its subscription's filter policy (a unit test checks)


@handler(clients=("dynamodb", "sqs"), prime=[lambda: build(DomainEvent)])
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        fan_out(DomainEvent.model_validate_json(record.body))

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
