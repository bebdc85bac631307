"""Tenant routes."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from aws_lambda_powertools.event_handler import Response

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit
from keel.tenants import service
from keel.tenants.models import Tenant, TenantCreate, TenantCreated, TenantUpdate

app = create_app()


@app.post(
    "/tenants",
    operation_id="create_tenant",
    middlewares=[requires(Permission.TENANTS_MANAGE)],
    tags=["tenants"],
)
def create_tenant(body: TenantCreate) -> Response[TenantCreated]:
    created = service.create(principal(app), body)
    return Response(status_code=201, body=created, content_type="application/json")


@app.get(
    "/tenants",
    operation_id="list_tenants",
    middlewares=[requires(Permission.TENANTS_LIST)],
    tags=["tenants"],
)
def list_tenants(
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Tenant]:
    return service.list_all(principal(app), limit, cursor)


@app.get(
    "/tenants/<tenant_id>",
    operation_id="get_tenant",
    middlewares=[requires(Permission.TENANTS_READ)],
    tags=["tenants"],
)
def get_tenant(tenant_id: str) -> Tenant:
    return service.get(principal(app), tenant_id)


@app.patch(
    "/tenants/<tenant_id>",
    operation_id="update_tenant",
    middlewares=[requires(Permission.TENANTS_MANAGE)],
    tags=["tenants"],
)
def update_tenant(tenant_id: str, body: TenantUpdate) -> Tenant:
    return service.update(principal(app), tenant_id, body)


lambda_handler = entrypoint(app)
