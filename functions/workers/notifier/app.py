"""Worker: notifications from domain events (rules), queued notifications (delivery), bulk fan-out.

SQS batch, partial failures; a transient provider failure puts the message back with backoff
(visibility doubled per receive, up to 15 minutes) and, after the queue's maxReceiveCount, in the DLQ.
"""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler
from keel.events.consume import Consumer
from keel.notifications import backoff, fanout, rules
from keel.store.outbox import DomainEvent

processor = BatchProcessor(event_type=EventType.SQS)
consumer = Consumer("notifier", fanout.handle_event)
# = its subscription's filter policy (a unit test checks)
EVENT_TYPES = frozenset(rules.TRIGGERS | {"notification.queued", "notification.bulk_requested"})


@handler(clients=("dynamodb", "sqs", "ses", "sns", "secretsmanager"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        with backoff.on_retry(record):
            consumer(DomainEvent.model_validate_json(record.body), context)

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
