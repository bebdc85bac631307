"""What a role may do, read fresh on every request (no cache to clear after a change)."""

from __future__ import annotations

from keel.core.permissions import builtin_permissions
from keel.roles import repo


def permissions_for(tenant_id: str, role: str) -> frozenset[str]:
    """Built-in roles cost nothing; a custom role is one read of its item."""
    builtin = builtin_permissions(role)
    if builtin is not None:
        return frozenset(str(p) for p in builtin)
    return repo.for_tenant(tenant_id).permissions(role)
