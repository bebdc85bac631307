"""User routes: list and search, profile, creation, activity, role changes, suspension."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from datetime import date, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.http import create_app, entrypoint, principal, public, request_meta, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.store.audit import AuditRecord
from keel.users import service
from keel.users.models import (
    ROLE_PATTERN,
    BulkRoleChange,
    BulkRoleChangeResult,
    EmailChangeConfirm,
    RoleChange,
    RoleHistoryEntry,
    SuspendRequest,
    UnsuspendRequest,
    UserCreate,
    UserDetail,
    UserFilter,
    UserOut,
    UserStatus,
    UserUpdate,
)

app = create_app()


@app.get("/users", operation_id="list_users", middlewares=[requires(Permission.USERS_READ)], tags=["users"])
def list_users(
    tenant_id: TenantParam = None,
    role: Annotated[str | None, Query(pattern=ROLE_PATTERN)] = None,
    status: Annotated[UserStatus | None, Query()] = None,
    registered_from: Annotated[date | datetime | None, Query()] = None,
    registered_to: Annotated[date | datetime | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=120, description="E-mail or name prefix")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[UserOut]:
    f = UserFilter(
        tenant_id=tenant_id,
        role=role,
        status=status,
        registered_from=registered_from,
        registered_to=registered_to,
        q=q,
    )
    return service.list_users(principal(app), f, limit, cursor)


@app.post(
    "/users", operation_id="create_user", middlewares=[requires(Permission.USERS_WRITE)], tags=["users"]
)
def create_user(body: UserCreate, tenant_id: TenantParam = None) -> Response[UserOut]:
    created = service.create_user(principal(app), tenant_id, body)
    return Response(status_code=201, body=created, content_type="application/json")


@app.post(
    "/users/bulk-role-changes",
    operation_id="bulk_change_roles",
    middlewares=[requires(Permission.ROLES_ASSIGN)],
    tags=["users"],
)
def bulk_change_roles(body: BulkRoleChange, tenant_id: TenantParam = None) -> BulkRoleChangeResult:
    return service.bulk_change_roles(principal(app), tenant_id, body)


@app.post(
    "/users/email-change/confirm", operation_id="confirm_email_change", middlewares=[public()], tags=["users"]
)
def confirm_email_change(body: EmailChangeConfirm) -> UserOut:
    caller = Principal.system(job="email_change").with_meta(request_meta(app))
    return service.confirm_email_change(body.token, caller)


@app.get(
    "/users/<user_id>", operation_id="get_user", middlewares=[requires(Permission.PROFILE)], tags=["users"]
)
def get_user(user_id: str, tenant_id: TenantParam = None) -> UserDetail:
    return service.get_user(principal(app), tenant_id, user_id)


@app.patch(
    "/users/<user_id>", operation_id="update_user", middlewares=[requires(Permission.PROFILE)], tags=["users"]
)
def update_user(user_id: str, body: UserUpdate, tenant_id: TenantParam = None) -> UserDetail:
    return service.update_user(principal(app), tenant_id, user_id, body)


@app.get(
    "/users/<user_id>/activity",
    operation_id="list_user_activity",
    middlewares=[requires(Permission.PROFILE)],
    tags=["users"],
)
def list_user_activity(
    user_id: str,
    tenant_id: TenantParam = None,
    kind: Annotated[Literal["all", "logins", "actions"], Query()] = "all",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditRecord]:
    return service.list_activity(principal(app), tenant_id, user_id, kind, limit, cursor)


@app.post(
    "/users/<user_id>/role",
    operation_id="change_user_role",
    middlewares=[requires(Permission.ROLES_ASSIGN)],
    tags=["users"],
)
def change_user_role(user_id: str, body: RoleChange, tenant_id: TenantParam = None) -> UserOut:
    return service.change_role(principal(app), tenant_id, user_id, body)


@app.get(
    "/users/<user_id>/role-history",
    operation_id="list_role_history",
    middlewares=[requires(Permission.PROFILE)],
    tags=["users"],
)
def list_role_history(
    user_id: str, tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[RoleHistoryEntry]:
    return service.role_history(principal(app), tenant_id, user_id, limit, cursor)


@app.post(
    "/users/<user_id>/suspend",
    operation_id="suspend_user",
    middlewares=[requires(Permission.USERS_SUSPEND)],
    tags=["users"],
)
def suspend_user(user_id: str, body: SuspendRequest, tenant_id: TenantParam = None) -> UserDetail:
    return service.suspend(principal(app), tenant_id, user_id, body)


@app.post(
    "/users/<user_id>/unsuspend",
    operation_id="unsuspend_user",
    middlewares=[requires(Permission.USERS_SUSPEND)],
    tags=["users"],
)
def unsuspend_user(user_id: str, body: UnsuspendRequest, tenant_id: TenantParam = None) -> UserDetail:
    return service.unsuspend(principal(app), tenant_id, user_id, body)


lambda_handler = entrypoint(app)
