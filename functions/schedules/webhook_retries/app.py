"""Schedule (every minute): queue webhook messages whose next attempt is due (retries beyond
SQS's 15-minute delay, and any job whose queue send was lost)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.webhooks.sweep import queue_due


@handler(clients=("dynamodb", "sqs"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    queued = queue_due()
    if queued:
        logger.info("due webhook messages queued", extra={"count": queued})
    metrics.add_metric(name="WebhookRetriesQueued", unit="Count", value=queued)
    return {"queued": queued}
