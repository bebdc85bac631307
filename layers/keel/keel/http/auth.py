"""Route middlewares: every route declares `requires(permission)` or `public()`.

`requires` authenticates the bearer token (one read), checks the permission and stores the
Principal on the resolver's context; the domain receives the Principal, never the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from keel.auth import sessions
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.core.permissions import Permission

Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response]


def bearer_token(app: APIGatewayHttpResolver) -> str:
    header = (app.current_event.headers or {}).get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise KeelError(ErrorCode.AUTH_001, "Missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return value.strip()


def requires(permission: Permission | None) -> Middleware:
    """Authenticate, then check `permission` (None: any signed-in caller)."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        from keel.http.app import PRINCIPAL, request_meta

        caller = sessions.authenticate(bearer_token(app), request_meta(app))
        if permission is not None:
            caller.require(permission)
        app.append_context(**{PRINCIPAL: caller})
        logger.append_keys(tenant_id=caller.tenant_id, principal=caller.actor, acting_as=caller.acting_as)
        return next_middleware(app)

    middleware.permission = permission  # type: ignore[attr-defined]
    return middleware


def public() -> Middleware:
    """No authentication (login, activation, health, docs, provider webhooks)."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        return next_middleware(app)

    middleware.public = True  # type: ignore[attr-defined]
    return middleware


def declared(middlewares: Any) -> bool:
    return any(hasattr(m, "permission") or hasattr(m, "public") for m in middlewares or ())
