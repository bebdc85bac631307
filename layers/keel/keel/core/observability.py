"""Logger, metrics and tracer, configured once (Powertools; settings from POWERTOOLS_* variables).

Log only ids and outcomes: never passwords, tokens, codes, secrets, message bodies or full
phone numbers. Request bodies are not logged (POWERTOOLS_LOGGER_LOG_EVENT=false).

The tracer patches botocore only: the AWS calls are what we trace, and patching every library
X-Ray supports would import requests, sqlite3 and more into every cold start.
"""

from __future__ import annotations

from keel.core.coldstart import end_of_init

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

TRACED_MODULES = ("botocore",)

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=TRACED_MODULES)


def handler(
    fn: Callable[[Any, LambdaContext], dict[str, Any]],
    *,
    correlation_id_path: str | None = None,
) -> Callable[[Any, LambdaContext], dict[str, Any]]:
    """A function's Lambda handler, the last statement of its module: logging context (cleared each
    invocation), tracing (no response captured), metrics; and the end of its cold start
    (`keel.core.coldstart`)."""
    wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
        tracer.capture_lambda_handler(capture_response=False)(metrics.log_metrics(fn))
    )
    end_of_init()
    return wrapped
