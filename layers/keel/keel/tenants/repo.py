"""Tenants in DynamoDB: one item per tenant, listed through GSI1."""

from __future__ import annotations

from typing import Any

from keel.core.errors import KeelError, Kind, not_found
from keel.store import keys, table
from keel.store.table import QueryPage
from keel.tenants.models import Tenant

FIELDS = set(Tenant.model_fields)


def item(tenant: Tenant) -> dict[str, Any]:
    data = tenant.model_dump(mode="json")
    data.update(
        PK=keys.tenant_pk(tenant.tenant_id),
        SK=keys.TENANT_SK,
        entity="tenant",
        GSI1PK=keys.TENANTS_INDEX_PK,
        GSI1SK=f"{tenant.created_at}#{tenant.tenant_id}",
    )
    return data


def from_item(raw: dict[str, Any]) -> Tenant:
    return Tenant.model_validate({k: v for k, v in raw.items() if k in FIELDS})


def get(tenant_id: str) -> Tenant | None:
    raw = table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK)
    return from_item(raw) if raw else None


def page(limit: int, cursor: str | None) -> tuple[list[Tenant], str | None]:
    result: QueryPage = table.query(keys.TENANTS_INDEX_PK, index="GSI1", limit=limit, cursor=cursor)
    return [from_item(i) for i in result.items], result.next_cursor


def exists_condition() -> tuple[str, KeelError]:
    return "attribute_exists(PK)", not_found(Kind.TENANT)
