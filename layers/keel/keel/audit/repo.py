"""Reading audit records (written by `store.audit` inside each change's transaction).

The only code that queries them, scoped to one tenant: `for_tenant(principal.tenant_scope(...))`.
"""

from __future__ import annotations

from typing import Any

from keel.store import keys, table
from keel.store.audit import AuditRecord
from keel.store.expressions import Condition

FIELDS = set(AuditRecord.model_fields)


class AuditRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def page(
        self,
        *,
        user_id: str | None = None,
        between: tuple[str, str] | None = None,
        where: Condition | None = None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[AuditRecord], str | None]:
        """Newest first; a user's records (as actor or acted as) through GSI1, else the tenant's."""
        query: dict[str, Any] = {
            "index": "GSI1" if user_id else None,
            "sk_between": between,
            "limit": limit,
            "cursor": cursor,
            "newest_first": True,
        }
        if where:
            query.update(filter_expression=where.expression, names=where.names, values=where.values)
        pk = keys.audit_user_index_pk(self.tenant_id, user_id) if user_id else keys.audit_pk(self.tenant_id)
        found = table.query(pk, **query)
        records = [
            AuditRecord.model_validate({k: v for k, v in i.items() if k in FIELDS}) for i in found.items
        ]
        return records, found.next_cursor


def for_tenant(tenant_id: str) -> AuditRepo:
    return AuditRepo(tenant_id)
