"""Who may call a route: every route declares `requires(permission)` or `public()`.

The declaration is read by the request pipeline (`keel.http.pipeline`), which authenticates the
bearer token (one read), checks the permission and stores the Principal on the resolver's context
before anything else looks at the request; the domain receives the Principal, never the event.
`secret=True` declares that the route's answer carries a credential (a session token, a TOTP key,
backup codes): such answers are never stored for an `Idempotency-Key` replay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.http.request import request_meta
from keel.identity import sessions

Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response]
PRINCIPAL = "principal"


@dataclass(frozen=True)
class Access:
    """A route's declaration: public, or signed in (with a permission); and whether it answers a secret."""

    public: bool
    permission: Permission | None = None
    secret: bool = False


def bearer_token(app: APIGatewayHttpResolver) -> str:
    header = (app.current_event.headers or {}).get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise KeelError(ErrorCode.AUTH_001, "Missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    return value.strip()


def _declaration(access: Access) -> Middleware:
    """The route middleware carrying `access`. The pipeline did the work; this only checks it did."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        if not access.public and not isinstance(app.context.get(PRINCIPAL), Principal):
            raise KeelError(ErrorCode.API_008, "Route was not authenticated")  # fail closed
        return next_middleware(app)

    middleware.access = access  # type: ignore[attr-defined]
    middleware.permission = access.permission  # type: ignore[attr-defined]
    if access.public:
        middleware.public = True  # type: ignore[attr-defined]
    return middleware


def requires(permission: Permission | None, *, secret: bool = False) -> Middleware:
    """Signed in, holding `permission` (None: any signed-in caller)."""
    return _declaration(Access(public=False, permission=permission, secret=secret))


def public(*, secret: bool = False) -> Middleware:
    """No authentication (login, activation, health, docs, provider webhooks)."""
    return _declaration(Access(public=True, secret=secret))


def access_of(middlewares: Any) -> Access | None:
    """The declaration among a route's middlewares, if any."""
    for m in middlewares or ():
        found = getattr(m, "access", None)
        if isinstance(found, Access):
            return found
    return None


def declared(middlewares: Any) -> bool:
    return access_of(middlewares) is not None


def authenticate(app: APIGatewayHttpResolver, access: Access) -> Principal | None:
    """Authenticate, then authorise, as `access` says; the Principal is kept on the context."""
    if access.public:
        return None

    caller = sessions.authenticate(bearer_token(app), request_meta(app))
    if access.permission is not None:
        caller.require(access.permission)
    app.append_context(**{PRINCIPAL: caller})
    logger.append_keys(tenant_id=caller.tenant_id, principal=caller.actor, acting_as=caller.acting_as)
    return caller


def audit_impersonated_request(app: APIGatewayHttpResolver, caller: Principal, status: int) -> None:
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
