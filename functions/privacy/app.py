"""Data-request routes (GDPR/HIPAA): export a user's data, erase it, read the deletion log."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.privacy import service
from keel.privacy.models import DeletionLogEntry, DeletionRequest, UserDataExport

app = create_app()

TenantParam = Annotated[str | None, Query(max_length=64, description="Super admins: another tenant")]


@app.get(
    "/users/<user_id>/data-export",
    operation_id="export_user_data",
    middlewares=[requires(Permission.PROFILE)],
    tags=["privacy"],
)
def export_user_data(user_id: str, tenant_id: TenantParam = None) -> UserDataExport:
    return service.export(principal(app), tenant_id, user_id)


@app.post(
    "/users/<user_id>/data-deletion",
    operation_id="delete_user_data",
    middlewares=[requires(Permission.DATA_REQUESTS)],
    tags=["privacy"],
)
def delete_user_data(user_id: str, body: DeletionRequest, tenant_id: TenantParam = None) -> DeletionLogEntry:
    return service.delete(principal(app), tenant_id, user_id, body)


@app.get(
    "/deletion-log",
    operation_id="list_deletion_log",
    middlewares=[requires(Permission.DATA_REQUESTS)],
    tags=["privacy"],
)
def list_deletion_log(
    tenant_id: TenantParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Page[DeletionLogEntry]:
    return service.list_log(principal(app), tenant_id, limit, cursor)


lambda_handler = entrypoint(app)
