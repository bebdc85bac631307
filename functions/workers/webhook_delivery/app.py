"""Worker: webhook delivery jobs -> signed attempts, in a thread pool, recorded in batches.

The same code serves both lanes; `WEBHOOK_LANE=slow` on the function fed by the slow queue.
A batch is tried as a whole: an error in the records or queue sends fails the batch, and the
retried jobs whose attempt was already recorded are skipped (each record is conditional).
"""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, metrics
from keel.webhooks import delivery, queue, sender

LANE = queue.SLOW if os.environ.get("WEBHOOK_LANE") == "slow" else queue.FAST


@handler(clients=("dynamodb", "sqs"), prime=[sender.session, delivery.pool])
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    jobs = [queue.Job.parse(r["body"]) for r in event.get("Records", [])]
    report = delivery.run(jobs, LANE)
    metrics.add_metric(name="WebhookAttempts", unit="Count", value=report.sent)
    metrics.add_metric(name="WebhookSucceeded", unit="Count", value=report.succeeded)
    return {"batchItemFailures": []}
