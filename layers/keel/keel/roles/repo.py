"""Custom roles in DynamoDB: items `T#<tenant>` / `ROLE#<name>`. The only code that touches them.

Built from the caller's tenant scope: `for_tenant(principal.tenant_scope(...))`.
"""

from __future__ import annotations

from typing import Any

from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.roles.models import RoleOut
from keel.store import keys, table
from keel.store.table import Tx


def _out(item: dict[str, Any]) -> RoleOut:
    return RoleOut.model_validate({**item, "builtin": False})


class RoleRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def permissions(self, name: str) -> frozenset[str]:
        """What a custom role grants (nothing if it does not exist): one read."""
        item = table.get(self.pk, keys.role_sk(name))
        return frozenset(item.get("permissions", ())) if item else frozenset()

    def get(self, name: str) -> RoleOut | None:
        item = table.get(self.pk, keys.role_sk(name))
        return _out(item) if item else None

    def all(self) -> list[RoleOut]:
        return [
            _out(i) for i in table.query_all(self.pk, sk_prefix=keys.role_sk("")) if i.get("entity") == "role"
        ]

    def add(self, tx: Tx, role: RoleOut, created_at: str) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.role_sk(role.name),
                "entity": "role",
                **role.model_dump(exclude={"builtin"}),
                "created_at": created_at,
            },
            condition="attribute_not_exists(PK)",
            on_fail=KeelError(
                ErrorCode.SAAS_011,
                f"Role {role.name!r} already exists",
                details=[{"field": "name", "message": "already exists"}],
            ),
        )

    def update(self, tx: Tx, name: str, changes: dict[str, Any]) -> None:
        tx.change(self.pk, keys.role_sk(name), changes, missing=not_found(Kind.ROLE))


def for_tenant(tenant_id: str) -> RoleRepo:
    return RoleRepo(tenant_id)
