"""The built-in roles a tenant has: those of its kind (the platform tenant: the platform staff roles).

Which permissions a tenant's roles may hold: tenant-scoped ones only, except on the platform.
"""

from __future__ import annotations

from collections.abc import Iterable

from keel.core.errors import invalid
from keel.core.permissions import BUILTIN_ROLES, PLATFORM_KIND, BuiltinRole, platform_only, roles_of_kind
from keel.core.principal import PLATFORM_TENANT
from keel.tenants import repo as tenants


def of_tenant(tenant_id: str) -> list[BuiltinRole]:
    """The built-in roles of the tenant's kind (one read of the tenant item, none on the platform)."""
    return roles_of_kind(PLATFORM_KIND if tenant_id == PLATFORM_TENANT else tenants.kind(tenant_id))


def is_reserved(name: str) -> bool:
    """Built-in names are reserved in every tenant, whatever its kind (they resolve from code)."""
    return name in BUILTIN_ROLES


def refuse_platform_permissions(
    tenant_id: str, permissions: Iterable[str], field: str = "permissions"
) -> None:
    """A tenant's custom role may not hold platform permissions (only the platform tenant's may)."""
    if tenant_id == PLATFORM_TENANT:
        return
    platform = platform_only(permissions)
    if platform:
        raise invalid(
            field,
            "Platform permissions cannot be granted by a tenant's role: " + ", ".join(platform),
        )
