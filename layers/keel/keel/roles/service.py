"""Role rules: built-in roles from code, custom roles per tenant; nobody grants what they lack.

A custom role's permissions are read fresh on every request (roles.resolve), so an update takes
effect on the next request of everyone who holds it; there is no cache to clear.
"""

from __future__ import annotations

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.roles import builtin, repo
from keel.roles.models import RoleCreate, RoleOut, RoleUpdate
from keel.store.change import Change


def _builtins(tenant_id: str) -> list[RoleOut]:
    """The tenant's kind's built-in roles (platform roles exist only on the platform)."""
    return [
        RoleOut(name=r.name, label=r.label, builtin=True, permissions=sorted(str(p) for p in r.permissions))
        for r in builtin.of_tenant(tenant_id)
    ]


def find(tenant_id: str, role: str) -> RoleOut | None:
    for known in _builtins(tenant_id):
        if known.name == role:
            return known
    if builtin.is_reserved(role):
        return None  # another kind's built-in role
    return repo.for_tenant(tenant_id).get(role)


def assignable(principal: Principal, tenant_id: str, role: str, field: str = "role") -> RoleOut:
    """The role, if it exists in the tenant and the caller holds every permission it grants."""
    found = find(tenant_id, role)
    if found is None:
        raise invalid(field, f"Unknown role {role!r}")
    _no_escalation(principal, found.permissions, field)
    return found


def _no_escalation(principal: Principal, permissions: list[str] | set[str], field: str) -> None:
    beyond = sorted(set(map(str, permissions)) - set(principal.permissions))
    if beyond:
        raise KeelError(
            ErrorCode.SAAS_001,
            "You cannot grant permissions you do not hold: " + ", ".join(beyond),
            details=[{"field": field, "message": "grants " + ", ".join(beyond)}],
        )


def list_roles(principal: Principal, tenant_id: str | None) -> Page[RoleOut]:
    principal.require(Permission.ROLES_READ)
    scoped = principal.tenant_scope(tenant_id)
    return Page[RoleOut](items=_builtins(scoped) + repo.for_tenant(scoped).all())


def create_role(principal: Principal, tenant_id: str | None, body: RoleCreate) -> RoleOut:
    principal.require(Permission.ROLES_WRITE)
    scoped = principal.tenant_scope(tenant_id)
    if builtin.is_reserved(body.name):
        raise KeelError(
            ErrorCode.SAAS_011,
            f"{body.name!r} is a built-in role",
            details=[{"field": "name", "message": "taken by a built-in role"}],
        )
    perms = sorted({str(p) for p in body.permissions})
    _no_escalation(principal, perms, "permissions")
    builtin.refuse_platform_permissions(scoped, perms)
    now = clock.iso()
    role = RoleOut(
        name=body.name,
        label=body.label,
        description=body.description,
        builtin=False,
        permissions=perms,
        updated_at=now,
        updated_by=principal.actor,
    )
    change = Change(principal)
    repo.for_tenant(scoped).add(change.tx, role, created_at=now)
    change.emit("role.created", {"role": body.name, "permissions": perms}, tenant_id=scoped)
    change.audit(
        "role.create",
        event_type="role_created",
        tenant_id=scoped,
        target_type="role",
        target_id=body.name,
        details={"permissions": perms},
    )
    change.commit()
    return role


def update_role(principal: Principal, tenant_id: str | None, name: str, body: RoleUpdate) -> RoleOut:
    principal.require(Permission.ROLES_WRITE)
    scoped = principal.tenant_scope(tenant_id)
    current = find(scoped, name)
    if current is None:
        raise not_found(Kind.ROLE)
    if current.builtin:
        raise KeelError(ErrorCode.SAAS_003, "Built-in roles cannot be changed; create a custom role")
    changes = body.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if "permissions" in changes:
        changes["permissions"] = sorted(set(changes["permissions"]))
        # what is added must be held by the caller; what they remove need not be
        _no_escalation(principal, set(changes["permissions"]) - set(current.permissions), "permissions")
        builtin.refuse_platform_permissions(scoped, changes["permissions"])
    if not changes:
        return current
    changes.update(updated_at=clock.iso(), updated_by=principal.actor)
    change = Change(principal)
    repo.for_tenant(scoped).update(change.tx, name, changes)
    change.emit("role.updated", {"role": name}, tenant_id=scoped)
    change.audit(
        "role.update",
        event_type="role_updated",
        tenant_id=scoped,
        target_type="role",
        target_id=name,
        details={
            "changed": sorted(set(changes) - {"updated_at", "updated_by"}),
            "permissions_before": current.permissions,
            "permissions_after": changes.get("permissions", current.permissions),
        },
    )
    change.commit()
    return current.model_copy(update=changes)
