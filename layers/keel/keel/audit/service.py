"""Audit log queries: by tenant or by user, a time range as a key range, filters on the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from keel.core import ids
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store import keys, table
from keel.store.audit import AuditRecord, Result, Severity

FIELDS = set(AuditRecord.model_fields)


class AuditFilter(BaseModel):
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
    conditions, names, values = [], {}, {}
    for attr in ("event_type", "result", "severity", "ip"):
        wanted = getattr(f, attr)
        if wanted is not None:
            conditions.append(f"#{attr} = :{attr}")
            names[f"#{attr}"] = attr
            values[f":{attr}"] = wanted
    query: dict[str, Any] = {
        "index": "GSI1" if f.user_id else None,
        "sk_between": _key_range(f),
        "limit": limit,
        "cursor": cursor,
        "newest_first": True,
    }
    if conditions:
        query.update(filter_expression=" AND ".join(conditions), names=names, values=values)
    pk = keys.audit_user_index_pk(tenant_id, f.user_id) if f.user_id else keys.audit_pk(tenant_id)
    page = table.query(pk, **query)
    records = [AuditRecord.model_validate({k: v for k, v in i.items() if k in FIELDS}) for i in page.items]
    return Page[AuditRecord](items=records, next_cursor=page.next_cursor)
