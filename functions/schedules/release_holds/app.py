"""Schedule: give back the seats of holds whose time is up (each hold once, audited as the system)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.checkout.holds import release_due
from keel.core.observability import handler, logger, metrics


@handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    counts = release_due()
    if counts["released"]:
        logger.info("expired holds released", extra=counts)
    metrics.add_metric(name="HoldsReleased", unit="Count", value=counts["released"])
    return counts
