"""Data-request routes (GDPR/HIPAA): export a user's data, erase it, read the deletion log; the same
for a contact known only by e-mail (a checkout buyer)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.privacy import service
from keel.privacy.models import (
    ContactDataExport,
    ContactDataRequest,
    ContactDeletionRequest,
    DeletionLogEntry,
    DeletionRequest,
    UserDataExport,
)

app = create_app()


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
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DeletionLogEntry]:
    return service.list_log(principal(app), tenant_id, limit, cursor)


# The e-mail travels in the body, never in the path or query (access logs keep those).
@app.post(
    "/contact-data/export",
    operation_id="export_contact_data",
    middlewares=[requires(Permission.DATA_REQUESTS)],
    tags=["privacy"],
)
def export_contact_data(body: ContactDataRequest, tenant_id: TenantParam = None) -> ContactDataExport:
    return service.export_contact(principal(app), tenant_id, body)


@app.post(
    "/contact-data/deletion",
    operation_id="delete_contact_data",
    middlewares=[requires(Permission.DATA_REQUESTS)],
    tags=["privacy"],
)
def delete_contact_data(body: ContactDeletionRequest, tenant_id: TenantParam = None) -> DeletionLogEntry:
    return service.delete_contact(principal(app), tenant_id, body)


lambda_handler = entrypoint(app)
