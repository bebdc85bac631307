"""What a role may do, read fresh on every request (no cache to clear after a change)."""

from __future__ import annotations

from keel.core.permissions import BUILTIN_ROLES, PLATFORM_KIND, platform_only
from keel.core.principal import PLATFORM_TENANT
from keel.roles import repo


def permissions_for(tenant_id: str, role: str) -> frozenset[str]:
    """Built-in roles cost nothing; a custom role is one read of its item.

    A platform role outside the platform tenant, or a tenant role inside it, grants nothing; a
    tenant's custom role never grants a platform permission (even one stored before scopes existed).
    """
    builtin = BUILTIN_ROLES.get(role)
    if builtin is not None:
        if (builtin.kind == PLATFORM_KIND) != (tenant_id == PLATFORM_TENANT):
            return frozenset()
        return frozenset(str(p) for p in builtin.permissions)
    held = repo.for_tenant(tenant_id).permissions(role)
    return held if tenant_id == PLATFORM_TENANT else held - set(platform_only(held))
