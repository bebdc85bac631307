"""Impersonation routes: start (reason, at most 4 hours), end, list."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit
from keel.security import impersonation

app = create_app()


@app.post(
    "/impersonations",
    operation_id="start_impersonation",
    middlewares=[requires(Permission.IMPERSONATE, secret=True)],
    tags=["impersonation"],
)
def start_impersonation(body: impersonation.StartIn) -> Response[impersonation.Started]:
    started = impersonation.start(principal(app), body)
    return Response(status_code=201, body=started, content_type="application/json")


@app.post(
    "/impersonations/<impersonation_id>/end",
    operation_id="end_impersonation",
    middlewares=[requires(Permission.PROFILE)],
    tags=["impersonation"],
)
def end_impersonation(
    impersonation_id: str, tenant_id: Annotated[str | None, Query(max_length=64)] = None
) -> impersonation.Impersonation:
    return impersonation.end(principal(app), impersonation_id, tenant_id)


@app.get(
    "/impersonations",
    operation_id="list_impersonations",
    middlewares=[requires(Permission.IMPERSONATE)],
    tags=["impersonation"],
)
def list_impersonations(
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Literal["active", "ended", "expired"] | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[impersonation.Impersonation]:
    return impersonation.list_all(
        principal(app), tenant_id=tenant_id, status=status, limit=limit, cursor=cursor
    )


lambda_handler = entrypoint(app)
