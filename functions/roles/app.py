"""Role routes: built-in and custom roles and their permissions."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from aws_lambda_powertools.event_handler import Response

from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import TenantParam
from keel.roles import service
from keel.roles.models import RoleCreate, RoleOut, RoleUpdate

app = create_app()


@app.get("/roles", operation_id="list_roles", middlewares=[requires(Permission.ROLES_READ)], tags=["roles"])
def list_roles(tenant_id: TenantParam = None) -> Page[RoleOut]:
    return service.list_roles(principal(app), tenant_id)


@app.post(
    "/roles", operation_id="create_role", middlewares=[requires(Permission.ROLES_WRITE)], tags=["roles"]
)
def create_role(body: RoleCreate, tenant_id: TenantParam = None) -> Response[RoleOut]:
    role = service.create_role(principal(app), tenant_id, body)
    return Response(status_code=201, body=role, content_type="application/json")


@app.patch(
    "/roles/<role>",
    operation_id="update_role",
    middlewares=[requires(Permission.ROLES_WRITE)],
    tags=["roles"],
)
def update_role(role: str, body: RoleUpdate, tenant_id: TenantParam = None) -> RoleOut:
    return service.update_role(principal(app), tenant_id, role, body)


lambda_handler = entrypoint(app)
