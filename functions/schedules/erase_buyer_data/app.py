"""Schedule: erase the contact data of workshop buyers `BUYER_DATA_RETENTION_DAYS` after the event."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.checkout.retention import erase_due
from keel.core.observability import handler, logger, metrics


@handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    counts = erase_due()
    if counts["events"]:
        logger.info("buyer contact data erased", extra=counts)
    metrics.add_metric(name="BuyerDataErased", unit="Count", value=counts["items"])
    return counts
