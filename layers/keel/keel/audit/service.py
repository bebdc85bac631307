"""Audit log queries: by tenant or by user, a time range as a key range, filters on the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from keel.audit import repo
from keel.core import ids
from keel.core.model import Model
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store.audit import AuditRecord, Result, Severity
from keel.store.expressions import equal

FIELDS = set(AuditRecord.model_fields)


class AuditFilter(Model):
    tenant_id: str | None = None
    user_id: str | None = None
    event_type: str | None = None
    result: Result | None = None
    severity: Severity | None = None
    ip: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _key_range(f: AuditFilter) -> tuple[str, str] | None:
    if not f.since and not f.until:
        return None
    lo = ids.ulid_bound(int(f.since.timestamp() * 1000), upper=False) if f.since else "0"
    hi = ids.ulid_bound(int(f.until.timestamp() * 1000), upper=True) if f.until else "Z"
    return lo, hi


def list_records(principal: Principal, f: AuditFilter, limit: int, cursor: str | None) -> Page[AuditRecord]:
    principal.require(Permission.AUDIT_READ)
    tenant_id = principal.tenant_scope(f.tenant_id)
    where = equal({a: getattr(f, a) for a in ("event_type", "result", "severity", "ip")})
    records, next_cursor = repo.for_tenant(tenant_id).page(
        user_id=f.user_id, between=_key_range(f), where=where, limit=limit, cursor=cursor
    )
    return Page[AuditRecord](items=records, next_cursor=next_cursor)


# export (identity and security) ------------------------------------------------------------

EXPORT_MAX_ROWS = 5000  # one response stays well under Lambda's 6 MB; `next_cursor` continues
CSV_COLUMNS = [
    "id",
    "at",
    "tenant_id",
    "actor_id",
    "acting_as_id",
    "action",
    "event_type",
    "target_type",
    "target_id",
    "result",
    "severity",
    "ip",
    "user_agent",
    "request_id",
    "details",
]


def export_records(
    principal: Principal, f: AuditFilter, fmt: str, cursor: str | None = None
) -> tuple[str, str | None, int]:
    """The filtered range as CSV or JSON (newest first); returns (body, next_cursor, rows)."""
    import csv
    import io
    import json

    from keel.store.change import Change

    principal.require(Permission.AUDIT_EXPORT)
    principal.require(Permission.AUDIT_READ)
    rows: list[AuditRecord] = []
    while len(rows) < EXPORT_MAX_ROWS:
        page = list_records(principal, f, min(200, EXPORT_MAX_ROWS - len(rows)), cursor)
        rows += page.items
        cursor = page.next_cursor
        if not cursor:
            break
    if fmt == "json":
        body = json.dumps([r.model_dump(mode="json") for r in rows], separators=(",", ":"))
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            data = r.model_dump(mode="json")
            data["details"] = json.dumps(data["details"], sort_keys=True) if data["details"] else ""
            writer.writerow({k: _csv_safe(v) for k, v in data.items()})
        body = out.getvalue()
    change = Change(principal)
    change.audit(
        "audit.export",
        event_type="audit_exported",
        tenant_id=principal.tenant_scope(f.tenant_id),
        details={"format": fmt, "rows": len(rows), "filter": f.model_dump(mode="json", exclude_none=True)},
    )
    change.commit()
    return body, cursor, len(rows)


def _csv_safe(value: Any) -> Any:
    """Cells a spreadsheet would run as a formula are prefixed (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
