"""Schedule: publish outbox events the relay left pending (it was down, or the stream expired)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.observability import handler, logger, metrics
from keel.events.publish import sweep_pending


@handler(clients=("dynamodb", "sns"))
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    published = sweep_pending()
    if published:
        logger.warning("outbox sweep re-published events", extra={"count": published})
    metrics.add_metric(name="OutboxSwept", unit="Count", value=published)
    return {"published": published}
