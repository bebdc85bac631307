"""Audit log routes (read-only: no route changes or deletes a record)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.audit.service import AuditFilter, export_records, list_records
from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit
from keel.store.audit import AuditRecord, Result, Severity

app = create_app()


@app.get(
    "/audit-logs",
    operation_id="list_audit_logs",
    middlewares=[requires(Permission.AUDIT_READ)],
    tags=["audit"],
)
def list_audit_logs(
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    result: Annotated[Result | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    ip: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditRecord]:
    f = AuditFilter(
        tenant_id=tenant_id,
        user_id=user_id,
        event_type=event_type,
        result=result,
        severity=severity,
        ip=ip,
        since=since,
        until=until,
    )
    return list_records(principal(app), f, limit, cursor)


@app.get(
    "/audit-logs/export",
    operation_id="export_audit_logs",
    middlewares=[requires(Permission.AUDIT_EXPORT)],
    tags=["audit"],
)
def export_audit_logs(
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    event_type: Annotated[str | None, Query(max_length=64)] = None,
    result: Annotated[Result | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    ip: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    cursor: Cursor = None,
) -> Response[str]:
    f = AuditFilter(
        tenant_id=tenant_id,
        user_id=user_id,
        event_type=event_type,
        result=result,
        severity=severity,
        ip=ip,
        since=since,
        until=until,
    )
    body, next_cursor, rows = export_records(principal(app), f, format, cursor)
    headers = {
        "Content-Disposition": f'attachment; filename="audit-logs.{format}"',
        "X-Row-Count": str(rows),
    }
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    content_type = "application/json" if format == "json" else "text/csv; charset=utf-8"
    return Response(status_code=200, body=body, content_type=content_type, headers=headers)


lambda_handler = entrypoint(app)
