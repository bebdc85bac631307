"""Worker: system e-mail for domain events (SQS batch, partial failures, each event once)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler
from keel.events.consume import Consumer
from keel.mail import system
from keel.store.outbox import DomainEvent

processor = BatchProcessor(event_type=EventType.SQS)
consumer = Consumer("mailer", system.handle)
EVENT_TYPES = frozenset(system.HANDLERS)  # = its subscription's filter policy (a unit test checks)


@handler(clients=("dynamodb", "ses"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        consumer(DomainEvent.model_validate_json(record.body), context)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
