"""Logger, metrics and tracer, configured once (Powertools; settings from POWERTOOLS_* variables).

Log only ids and outcomes: never passwords, tokens, codes, secrets, message bodies or full
phone numbers. Request bodies are not logged (POWERTOOLS_LOGGER_LOG_EVENT=false).

The tracer patches botocore only: the AWS calls are what we trace, and patching every library
X-Ray supports would import requests, sqlite3 and more into every cold start.
"""

from __future__ import annotations

from keel.core.coldstart import before_snapshot, end_of_init

from collections.abc import Callable, Iterable
from typing import Any, overload

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

TRACED_MODULES = ("botocore",)

logger = Logger()
metrics = Metrics()
tracer = Tracer(patch_modules=TRACED_MODULES)


Handler = Callable[[Any, LambdaContext], Any]


@overload
def handler(fn: Handler) -> Handler: ...
@overload
def handler(
    fn: None = None,
    *,
    correlation_id_path: str | None = None,
    clients: Iterable[str] = ...,
    prime: Iterable[Callable[[], object]] = ...,
) -> Callable[[Handler], Handler]: ...
def handler(
    fn: Handler | None = None,
    *,
    correlation_id_path: str | None = None,
    clients: Iterable[str] = ("dynamodb",),
    prime: Iterable[Callable[[], object]] = (),
) -> Handler | Callable[[Handler], Handler]:
    """A function's Lambda handler, the last statement of its module (`@handler`, or
    `@handler(clients=..., prime=...)`): logging context (cleared each invocation), tracing (no
    response captured), metrics; the end of its cold start (`keel.core.coldstart`); and, with
    SnapStart, a before-snapshot hook that builds what its first invocation would (`prime_now`)."""

    def wrap(fn: Handler) -> Handler:
        wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            tracer.capture_lambda_handler(capture_response=False)(metrics.log_metrics(fn))
        )
        services, steps = tuple(clients), tuple(prime)
        before_snapshot(lambda: prime_now(services, steps))
        end_of_init()
        return wrapped

    return wrap(fn) if fn is not None else wrap


def prime_now(clients: Iterable[str], steps: Iterable[Callable[[], object]] = ()) -> None:
    """SnapStart only, before the snapshot: the AWS clients the function uses (botocore loads its
    service model and endpoint rules, 20 to 40 ms each; no connection is opened, none is in the
    snapshot) and the function's own steps (a consumer's idempotency wrapper, models' validators).
    Nothing here calls AWS or reads the clock or a secret."""
    from keel.core import aws

    for service in clients:
        aws.client(service)
    for step in steps:
        step()
