"""Schedule: lift temporary suspensions whose end has come (each lift audited as the system)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.users.service import lift_due_suspensions


@handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    lifted = lift_due_suspensions()
    if lifted:
        logger.info("temporary suspensions lifted", extra={"count": lifted})
    metrics.add_metric(name="SuspensionsLifted", unit="Count", value=lifted)
    return {"lifted": lifted}
