"""Audit records: one per state change, in the change's own transaction; append-only.

Failures (a refused login, a denied action) are recorded on their own, since no change commits.
No API updates or deletes an audit record; erasing a user's data only blanks its personal fields.
"""

from __future__ import annotations

from typing import Any, Literal

from keel.core import clock, ids
from keel.core.model import Model
from keel.core.principal import Principal, RequestMeta
from keel.store import keys, table

Severity = Literal["info", "warning", "critical"]
Result = Literal["success", "failure"]


class AuditRecord(Model):
    id: str
    at: str
    tenant_id: str
    actor_id: str | None
    acting_as_id: str | None = None
    action: str
    event_type: str
    target_type: str | None = None
    target_id: str | None = None
    result: Result = "success"
    severity: Severity = "info"
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = {}


def build(
    *,
    tenant_id: str,
    action: str,
    actor_id: str | None,
    acting_as_id: str | None = None,
    meta: RequestMeta | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    event_type: str | None = None,
    result: Result = "success",
    severity: Severity = "info",
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    meta = meta or RequestMeta()
    return AuditRecord(
        id=ids.ulid(),
        at=clock.iso(),
        tenant_id=tenant_id,
        actor_id=actor_id,
        acting_as_id=acting_as_id,
        action=action,
        event_type=event_type or action,
        target_type=target_type,
        target_id=target_id,
        result=result,
        severity=severity,
        ip=meta.ip,
        user_agent=meta.user_agent,
        request_id=meta.request_id,
        details=details or {},
    )


def for_principal(principal: Principal, **kwargs: Any) -> AuditRecord:
    kwargs.setdefault("tenant_id", principal.tenant_id)
    return build(actor_id=principal.actor, acting_as_id=principal.acting_as, meta=principal.meta, **kwargs)


def item(record: AuditRecord) -> dict[str, Any]:
    subject = record.acting_as_id or record.actor_id
    data = record.model_dump()
    data.update(
        PK=keys.audit_pk(record.tenant_id),
        SK=record.id,
        entity="audit",
    )
    if subject:
        data.update(GSI1PK=keys.audit_user_index_pk(record.tenant_id, subject), GSI1SK=record.id)
    if record.target_type == "user" and record.target_id and record.target_id != subject:
        data.update(GSI2PK=keys.audit_user_index_pk(record.tenant_id, record.target_id), GSI2SK=record.id)
    return data


def write(record: AuditRecord) -> None:
    """For records with no change to ride on (failures): a single conditional put."""
    table.put(item(record), condition="attribute_not_exists(PK)")
