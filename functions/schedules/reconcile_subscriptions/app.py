"""Schedule: reconcile subscriptions with their gateway every day (as the system)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.core.principal import Principal
from keel.payments.reconcile import reconcile


@handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    report = reconcile(Principal.system(job="reconcile-subscriptions"))
    if report.changed:
        logger.warning("reconciliation corrected subscriptions", extra={"changes": len(report.changed)})
    metrics.add_metric(name="SubscriptionsReconciled", unit="Count", value=len(report.changed))
    return report.model_dump(mode="json")
