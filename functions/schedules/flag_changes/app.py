"""Schedule (every minute): apply scheduled flag changes whose time has come, each exactly once."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.flags.service import apply_due_changes


@handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:  # noqa: ARG001
    done = apply_due_changes()
    if any(done.values()):
        logger.info("scheduled flag changes", extra=done)
    metrics.add_metric(name="FlagChangesApplied", unit="Count", value=done["applied"])
    return done
