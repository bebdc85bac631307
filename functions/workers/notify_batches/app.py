"""Worker: a bulk send's recipients, 100 a message; each notified exactly once (keel.notifications.fanout)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler
from keel.notifications import backoff, fanout

processor = BatchProcessor(event_type=EventType.SQS)


@handler(clients=("dynamodb", "sqs", "ses", "sns", "secretsmanager"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        with backoff.on_retry(record):
            fanout.handle_batch(json.loads(record.body))

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
