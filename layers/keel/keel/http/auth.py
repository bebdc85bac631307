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
from keel.core.principal import Principal

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
        if caller.kind != "impersonation":
            return next_middleware(app)
        try:
            response = next_middleware(app)
        except KeelError as exc:
            _audit_impersonated_request(app, caller, exc.status)
            raise
        _audit_impersonated_request(app, caller, int(response.status_code))
        return response

    middleware.permission = permission  # type: ignore[attr-defined]
    return middleware


def _audit_impersonated_request(app: APIGatewayHttpResolver, caller: Principal, status: int) -> None:
    """Every request made while impersonating is audited with both the actor and the user acted as."""
    from keel.store import audit

    audit.write(
        audit.for_principal(
            caller,
            action="impersonation.request",
            event_type="impersonation",
            result="success" if status < 400 else "failure",
            details={
                "method": app.current_event.http_method,
                "path": app.current_event.path,
                "status": status,
            },
        )
    )


def public() -> Middleware:
    """No authentication (login, activation, health, docs, provider webhooks)."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        return next_middleware(app)

    middleware.public = True  # type: ignore[attr-defined]
    return middleware


def declared(middlewares: Any) -> bool:
    return any(hasattr(m, "permission") or hasattr(m, "public") for m in middlewares or ())
