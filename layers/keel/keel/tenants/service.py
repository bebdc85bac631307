"""Tenant rules: platform staff create, list and change tenants; a tenant's admin reads their own."""

from __future__ import annotations

from typing import Any

from keel.core import clock, ids
from keel.core.pagination import Page
from keel.core.permissions import ADMIN_ROLE, Permission
from keel.core.principal import Principal
from keel.store.change import Change
from keel.tenants import repo
from keel.tenants.models import Tenant, TenantCreate, TenantCreated, TenantUpdate


def create(principal: Principal, body: TenantCreate, *, tenant_id: str | None = None) -> TenantCreated:
    principal.require(Permission.TENANTS_MANAGE)
    # only this route touches users: the tenants function's other routes start without them (4 ms)
    from keel.users import repo as users
    from keel.users.models import User, UserStatus

    now = clock.iso()
    tenant = Tenant(
        tenant_id=tenant_id or ids.new_id("ten"),
        name=body.name,
        plan=body.plan,
        kind=body.kind,
        limits=body.limits,
        region=body.region,
        user_count=1,
        created_at=now,
        updated_at=now,
    )
    admin = User(
        user_id=ids.new_id("usr"),
        tenant_id=tenant.tenant_id,
        email=body.admin.email,
        name=body.admin.name,
        role=ADMIN_ROLE[body.kind],
        status=UserStatus.PENDING_ACTIVATION,
        created_at=now,
        updated_at=now,
    )
    change = Change(principal)
    repo.for_tenant(tenant.tenant_id).add(change.tx, tenant)
    users.add_new_user(change.tx, admin)
    change.emit(
        "tenant.created",
        {"tenant_id": tenant.tenant_id, "admin_user_id": admin.user_id, "name": tenant.name},
        tenant_id=tenant.tenant_id,
    )
    change.audit(
        "tenant.create",
        tenant_id=tenant.tenant_id,
        target_type="tenant",
        target_id=tenant.tenant_id,
        details={"plan": tenant.plan, "kind": tenant.kind, "admin_user_id": admin.user_id},
    )
    change.commit()
    return TenantCreated(tenant=tenant, admin_user_id=admin.user_id)


def get(principal: Principal, tenant_id: str) -> Tenant:
    principal.require(Permission.TENANTS_READ)
    return repo.for_tenant(principal.tenant_scope(tenant_id)).require()


def list_all(principal: Principal, limit: int, cursor: str | None) -> Page[Tenant]:
    principal.require(Permission.TENANTS_LIST)
    items, next_cursor = repo.page(limit, cursor)
    return Page[Tenant](items=items, next_cursor=next_cursor)


def update(principal: Principal, tenant_id: str, body: TenantUpdate) -> Tenant:
    principal.require(Permission.TENANTS_MANAGE)
    tenant = get(principal, tenant_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if not changes:
        return tenant
    changes["updated_at"] = clock.iso()
    updated = Tenant.model_validate({**tenant.model_dump(mode="json"), **changes})
    change = Change(principal)
    repo.for_tenant(tenant.tenant_id).update(change.tx, changes)
    change.emit("tenant.updated", {"tenant_id": tenant_id}, tenant_id=tenant_id)
    change.audit(
        "tenant.update",
        tenant_id=tenant_id,
        target_type="tenant",
        target_id=tenant_id,
        details={"changed": sorted(set(changes) - {"updated_at"})},
    )
    change.commit()
    return updated
