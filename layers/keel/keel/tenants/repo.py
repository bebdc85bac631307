"""Tenants in DynamoDB: one item per tenant (which also counts its seats), listed through GSI1.

The only code that reads or writes tenant items. `for_tenant(scoped_id)` works on one tenant
(the id comes from `principal.tenant_scope(...)`, never straight from a request); `page` is the
platform listing (platform staff only, checked by the service).
"""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.core.permissions import PLATFORM_KIND, TenantKind
from keel.core.principal import PLATFORM_TENANT
from keel.store import keys, table
from keel.store.table import QueryPage, Tx
from keel.tenants.models import Tenant

FIELDS = set(Tenant.model_fields)


def item(tenant: Tenant) -> dict[str, Any]:
    data = tenant.model_dump(mode="json")
    data.update(
        PK=keys.tenant_pk(tenant.tenant_id),
        SK=keys.TENANT_SK,
        entity="tenant",
        GSI1PK=keys.TENANTS_INDEX_PK,
        GSI1SK=keys.created_sk(tenant.created_at, tenant.tenant_id),
    )
    return data


def from_item(raw: dict[str, Any]) -> Tenant:
    return Tenant.model_validate({k: v for k, v in raw.items() if k in FIELDS})


class TenantRepo:
    """One tenant's item."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.key = (keys.tenant_pk(tenant_id), keys.TENANT_SK)

    def get(self) -> Tenant | None:
        raw = table.get(*self.key)
        return from_item(raw) if raw else None

    def require(self) -> Tenant:
        tenant = self.get()
        if tenant is None:
            raise not_found(Kind.TENANT)
        return tenant

    def add(self, tx: Tx, tenant: Tenant) -> None:
        assert tenant.tenant_id == self.tenant_id
        tx.put(item(tenant), condition="attribute_not_exists(PK)")

    def update(self, tx: Tx, changes: dict[str, Any]) -> None:
        tx.change(*self.key, changes, missing=not_found(Kind.TENANT))

    def take_seat(self, tx: Tx) -> None:
        """Takes one seat of the tenant's plan, or fails the whole transaction with SAAS_006."""
        tx.update(
            *self.key,
            "SET user_count = user_count + :one",
            condition="attribute_exists(PK) AND user_count < limits.max_users",
            values={":one": 1},
            on_fail=KeelError(
                ErrorCode.SAAS_006, "The tenant has reached its user limit; upgrade the plan or remove users"
            ),
        )

    def set_plan(self, tx: Tx, plan_id: str, max_users: int, *, refuse_below_usage: bool) -> None:
        """The tenant's plan and its user limit, changed together (billing, issue 12).

        With `refuse_below_usage`, the write fails (SAAS_054) when the tenant has more users than
        the new limit: checked by the write's condition, so a user added meanwhile counts too.
        """
        condition = "attribute_exists(PK)"
        if refuse_below_usage:
            condition += " AND user_count <= :max"
        tx.update(
            *self.key,
            "SET #plan = :plan, limits.max_users = :max, updated_at = :now",
            names={"#plan": "plan"},
            values={":plan": plan_id, ":max": max_users, ":now": clock.iso()},
            condition=condition,
            on_fail=_below_usage(plan_id, max_users),
        )

    def refuse_below_usage(self, plan_id: str, max_users: int) -> None:
        """SAAS_054 now if the tenant has more users than `max_users` (a read: for a check before
        a call that cannot be undone; `set_plan`'s condition stays the guarantee)."""
        tenant = self.get()
        if tenant is not None and tenant.user_count > max_users:
            raise _below_usage(plan_id, max_users)

    def release_seat(self, tx: Tx) -> None:
        tx.update(*self.key, "ADD user_count :minus", values={":minus": -1})


def _below_usage(plan_id: str, max_users: int) -> KeelError:
    return KeelError(
        ErrorCode.SAAS_054,
        f"The tenant has more users than plan {plan_id!r} allows ({max_users}); remove users first",
        details=[{"field": "plan_id", "message": f"allows {max_users} users, fewer than in use"}],
    )


def for_tenant(tenant_id: str) -> TenantRepo:
    return TenantRepo(tenant_id)


_KINDS: dict[str, str] = {}  # a tenant's kind never changes, so a warm container may keep it


def kind(tenant_id: str) -> str:
    """The tenant's kind (its role set): `platform` for the platform tenant, else a TenantKind.

    Read once per tenant per container: the kind is set at creation and never changes.
    """
    if tenant_id == PLATFORM_TENANT:
        return PLATFORM_KIND
    known = _KINDS.get(tenant_id)
    if known is None:
        tenant = for_tenant(tenant_id).get()
        if tenant is None:
            return TenantKind.PHARMACY
        if len(_KINDS) >= 10_000:
            _KINDS.clear()
        known = _KINDS[tenant_id] = tenant.kind
    return known


def page(limit: int, cursor: str | None) -> tuple[list[Tenant], str | None]:
    """Every tenant, oldest first (the platform listing)."""
    result: QueryPage = table.query(keys.TENANTS_INDEX_PK, index="GSI1", limit=limit, cursor=cursor)
    return [from_item(i) for i in result.items], result.next_cursor
