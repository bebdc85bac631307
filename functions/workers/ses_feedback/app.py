"""Worker: SES bounces, complaints and deliveries (SNS -> SQS, not domain events), each applied once.

A permanent bounce or a complaint marks the notification's e-mail hop bounced and suppresses the
address for its tenant; a bounce then tries the notification's next channel.
"""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler
from keel.notifications import receipts

processor = BatchProcessor(event_type=EventType.SQS)


def feedback_of(body: str) -> dict[str, Any]:
    """The SES notification: the SQS body itself (raw delivery) or an SNS envelope's `Message`."""
    parsed: dict[str, Any] = json.loads(body)
    if parsed.get("Type") == "Notification" and isinstance(parsed.get("Message"), str):
        inner: dict[str, Any] = json.loads(parsed["Message"])
        return inner
    return parsed


@handler(clients=("dynamodb", "sqs"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        receipts.ses_feedback(feedback_of(record.body))

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
