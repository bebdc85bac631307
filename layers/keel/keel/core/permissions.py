"""The published permission list and the built-in roles.

Custom roles (per tenant) are built from `Permission` values only. Built-in roles resolve from
code, so authorising a request on a built-in role costs no read.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    TENANTS_READ = "tenants:read"
    TENANTS_MANAGE = "tenants:manage"  # platform: create, list and change any tenant
    TENANT_UPDATE = "tenant:update"  # a tenant admin's own organisation settings
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    USERS_SUSPEND = "users:suspend"
    ROLES_READ = "roles:read"
    ROLES_WRITE = "roles:write"
    ROLES_ASSIGN = "roles:assign"
    INVITATIONS_MANAGE = "invitations:manage"
    DATA_REQUESTS = "data:requests"
    AUDIT_READ = "audit:read"
    AUDIT_EXPORT = "audit:export"
    SECURITY_READ = "security:read"
    SECURITY_MANAGE = "security:manage"
    SESSIONS_MANAGE = "sessions:manage"
    IMPERSONATE = "users:impersonate"
    SYSTEM_READ = "system:read"
    PROFILE = "profile:self"  # everyone: own profile, sessions, 2FA, password


SUPER_ADMIN = "super_admin"
MANAGER = "manager"

_TENANT_ADMIN = frozenset(Permission) - {Permission.TENANTS_MANAGE}

# --- users and roles (issue 4): pharmacy roles of guides 000/001, dental practice roles of guide 002
_STAFF = frozenset(
    {Permission.PROFILE, Permission.USERS_READ, Permission.ROLES_READ, Permission.TENANTS_READ}
)

BUILTIN_ROLES: dict[str, tuple[str, frozenset[Permission]]] = {
    SUPER_ADMIN: ("Super Admin", frozenset(Permission)),
    MANAGER: ("Pharmacy Manager", _TENANT_ADMIN),
    "pharmacist": ("Pharmacist", _STAFF),
    "cashier": ("Cashier", frozenset({Permission.PROFILE})),
    "technician": ("Technician", frozenset({Permission.PROFILE, Permission.TENANTS_READ})),
    "practice_admin": ("Practice Admin", _TENANT_ADMIN),
    "dentist": ("Dentist", _STAFF),
    "lab_technician": ("Lab Technician", frozenset({Permission.PROFILE, Permission.TENANTS_READ})),
    "front_desk": ("Front Desk", _STAFF),
}


def builtin_permissions(role: str) -> frozenset[Permission] | None:
    entry = BUILTIN_ROLES.get(role)
    return entry[1] if entry else None
