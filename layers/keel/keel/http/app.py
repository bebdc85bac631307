"""The resolver every API function uses, with one error shape and one request context."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

import json
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import handler, logger
from keel.core.principal import Principal
from keel.http import idempotency, pipeline
from keel.http.auth import PRINCIPAL
from keel.http.errors import error_response, from_keel_error, validation_details


def principal(app: APIGatewayHttpResolver) -> Principal:
    """The caller, authenticated by the pipeline as the route's `requires(...)` declares."""
    found = app.context.get(PRINCIPAL)
    if not isinstance(found, Principal):  # a route without `requires` asked for one: a bug
        raise KeelError(ErrorCode.API_008, "Route has no authentication")
    return found


@lru_cache(maxsize=1)
def _route_table() -> list[tuple[re.Pattern[str], set[str]]]:
    """Paths and methods of the whole API, from the committed spec (for 405 versus 404)."""
    try:
        spec = json.loads(resources.files("keel").joinpath("openapi.json").read_text())
    except FileNotFoundError:
        return []
    table = []
    for path, ops in spec.get("paths", {}).items():
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")
        table.append((pattern, {m.upper() for m in ops}))
    return table


def allowed_methods(path: str) -> set[str]:
    methods: set[str] = set()
    for pattern, ops in _route_table():
        if pattern.match(path):
            methods |= ops
    return methods


def create_app() -> APIGatewayHttpResolver:
    """authenticate -> authorise -> validate -> idempotency -> handler (see `keel.http.pipeline`)."""
    app = APIGatewayHttpResolver(enable_validation=True)
    pipeline.install(app)
    app.use(middlewares=[idempotency.middleware])

    def request_id() -> str | None:
        try:
            return app.current_event.request_context.request_id
        except (AttributeError, KeyError):
            return None

    @app.exception_handler(KeelError)
    def _keel_error(exc: KeelError) -> Response:
        return from_keel_error(exc, request_id())

    @app.exception_handler(RequestValidationError)
    def _validation(exc: RequestValidationError) -> Response:
        code, details = validation_details(list(exc.errors()))
        message = "Request body is not valid JSON" if code is ErrorCode.API_005 else "Validation failed"
        return error_response(code, message, request_id(), details)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        path = app.current_event.path
        methods = allowed_methods(path)
        if methods and app.current_event.http_method.upper() not in methods:
            return error_response(
                ErrorCode.API_009,
                "Method not allowed",
                request_id(),
                headers={"Allow": ", ".join(sorted(methods))},
            )
        return error_response(ErrorCode.API_006, f"No route for {path}", request_id())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(ErrorCode.API_008, "Server error", request_id())

    return app


def _too_large(event: dict[str, Any]) -> dict[str, Any] | None:
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size <= settings().max_body_bytes:
        return None
    request_id = (event.get("requestContext") or {}).get("requestId")
    body_json = {"error": {"code": "API_010", "message": "Payload too large", "request_id": request_id}}
    return {"statusCode": 413, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body_json)}


def entrypoint(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of an API function (its module's last statement): logging context, metrics,
    tracing, size limit; the end of its cold start."""

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        app.context.clear()
        return _too_large(event) or app.resolve(event, context)

    return handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, prime=[lambda: prime(app)])(
        lambda_handler
    )


def prime(app: APIGatewayHttpResolver) -> None:
    """SnapStart only (`keel.core.coldstart.before_snapshot`): what first requests would build, built
    once before the snapshot, so every restored instance starts with it: each route's validation
    (Powertools' dependant: its parameters', body's and answer's pydantic schemas) and the DynamoDB
    client. No call is made: a connection opened now would not survive the restore."""
    from keel.core import aws

    for route in [*app._static_routes, *app._dynamic_routes]:
        route.dependant  # noqa: B018  (built on first access, then kept on the route)
    aws.client("dynamodb")  # the one the table wrapper uses (`keel.store.table.client`)
