"""The order every request goes through: authenticate -> authorise -> validate -> idempotency -> handler.

Powertools runs its request validation before any other middleware of a route. `install` puts
the route's declared access (`requires(...)` / `public()`) and the body's media type and encoding
checks in front of that validation, so an anonymous caller learns nothing from a validation error
and a dead session gets nothing back from an idempotency replay. Idempotency is the resolver's
global middleware, which Powertools runs after validation.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from keel.core.errors import ErrorCode, KeelError
from keel.http.auth import Middleware, access_of, audit_impersonated_request, authenticate


def install(app: APIGatewayHttpResolver) -> None:
    """Runs authentication and the body checks first, then Powertools' own request validation."""
    validate: Middleware = app._request_validation_middleware  # set by enable_validation=True

    def authenticate_then_validate(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        route = app.context.get("_route")
        access = access_of(getattr(route, "middlewares", None))
        if access is None:  # the resolver's own not-found route (every route declares: see the tests)
            return validate(app, next_middleware)
        caller = authenticate(app, access)
        if route is not None and route.dependant.body_params:
            check_body(app, accepted_media_type(route.dependant.body_params))
        if caller is None or caller.kind != "impersonation":
            return validate(app, next_middleware)
        try:
            response = validate(app, next_middleware)
        except KeelError as exc:
            audit_impersonated_request(app, caller, exc.status)
            raise
        except RequestValidationError:
            audit_impersonated_request(app, caller, ErrorCode.API_007.status)
            raise
        audit_impersonated_request(app, caller, int(response.status_code))
        return response

    app._request_validation_middleware = authenticate_then_validate  # type: ignore[assignment]


JSON = "application/json"


def accepted_media_type(body_params: list[Any]) -> str:
    """What the operation's body is declared as: JSON, or a form (`Form(...)` parameters)."""
    declared = {getattr(p.field_info, "media_type", JSON) for p in body_params}
    return declared.pop() if len(declared) == 1 else JSON


def is_accepted(content_type: str, accepted: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if accepted != JSON:
        return media == accepted
    return media == JSON or (media.startswith("application/") and media.endswith("+json"))


def check_body(app: APIGatewayHttpResolver, accepted: str) -> None:
    """An operation takes the media type it declares (415 otherwise), encoded as UTF-8 (400 otherwise)."""
    event = app.current_event
    content_type = (event.headers or {}).get("content-type")
    body: Any = event.get("body")
    if content_type is not None and not is_accepted(content_type, accepted):
        raise KeelError(
            ErrorCode.API_012,
            f"Content-Type must be {accepted}",
            details=[{"field": "Content-Type", "message": f"{content_type[:100]} is not supported"}],
        )
    if not body:
        return
    try:
        raw = base64.b64decode(body, validate=True) if event.is_base64_encoded else body.encode()
        raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise KeelError(
            ErrorCode.API_005,
            "Request body is not UTF-8 JSON",
            details=[{"field": "body", "message": "Body is not valid UTF-8"}],
        ) from exc
