"""Schedule: scheduled bulk sends whose time has come start; notifications held for quiet hours go out."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.notifications.fanout import run_due


@handler(clients=("dynamodb", "sqs"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    started = run_due()
    if started:
        logger.info("due notifications started", extra={"count": started})
    metrics.add_metric(name="NotificationsDue", unit="Count", value=started)
    return {"started": started}
