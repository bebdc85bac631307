"""The published permission list, the built-in roles and the role set of each kind of tenant.

Every permission declares its scope: `platform` (only roles of the platform tenant may hold it)
or `tenant`. Every built-in role lists exactly what it gets: a permission added here is granted
to nobody until a role names it. Built-in role names are unique across kinds, so a request on a
built-in role resolves from code and costs no read. Custom roles (per tenant) are built from
`Permission` values only; a tenant's custom role can never hold a platform permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    PLATFORM = "platform"  # staff of the platform tenant only
    TENANT = "tenant"  # any tenant's roles (and platform staff acting on a tenant)


class Permission(StrEnum):
    scope: Scope

    def __new__(cls, value: str, scope: Scope) -> Permission:
        member = str.__new__(cls, value)
        member._value_ = value
        member.scope = scope
        return member

    TENANTS_READ = "tenants:read", Scope.TENANT  # one's own tenant (any tenant for platform staff)
    TENANTS_LIST = "tenants:list", Scope.PLATFORM  # list every tenant
    TENANTS_MANAGE = "tenants:manage", Scope.PLATFORM  # create tenants, change any tenant
    TENANT_UPDATE = "tenant:update", Scope.TENANT  # a tenant admin's own organisation settings
    USERS_READ = "users:read", Scope.TENANT
    USERS_WRITE = "users:write", Scope.TENANT
    USERS_SUSPEND = "users:suspend", Scope.TENANT
    ROLES_READ = "roles:read", Scope.TENANT
    ROLES_WRITE = "roles:write", Scope.TENANT
    ROLES_ASSIGN = "roles:assign", Scope.TENANT
    INVITATIONS_MANAGE = "invitations:manage", Scope.TENANT
    DATA_REQUESTS = "data:requests", Scope.TENANT
    AUDIT_READ = "audit:read", Scope.TENANT
    AUDIT_EXPORT = "audit:export", Scope.TENANT
    SECURITY_READ = "security:read", Scope.TENANT
    SECURITY_MANAGE = "security:manage", Scope.TENANT
    SESSIONS_MANAGE = "sessions:manage", Scope.TENANT
    IMPERSONATE = "users:impersonate", Scope.TENANT
    SYSTEM_READ = "system:read", Scope.PLATFORM  # platform health and operations
    PROFILE = "profile:self", Scope.TENANT  # everyone: own profile, sessions, 2FA, password
    # notifications (issue 10); one's own preferences and inbox come with PROFILE
    NOTIFICATIONS_READ = "notifications:read", Scope.TENANT  # channels, templates, rules, history
    NOTIFICATIONS_MANAGE = "notifications:manage", Scope.TENANT  # channels, templates, rules
    NOTIFICATIONS_SEND = "notifications:send", Scope.TENANT  # single, bulk, scheduled sends, resends
    # checkout (issue 13)
    EVENTS_READ = "events:read", Scope.TENANT  # events, inventory ledger and audit, registrations
    EVENTS_MANAGE = "events:manage", Scope.TENANT  # create/update events, notify oversold buyers
    INVENTORY_ADJUST = "inventory:adjust", Scope.TENANT  # expand and correct inventory (staff only)
    # webhooks (issue 11)
    WEBHOOKS_READ = "webhooks:read", Scope.TENANT  # endpoints, event types, delivery log, stats
    WEBHOOKS_MANAGE = "webhooks:manage", Scope.TENANT  # endpoints, secrets, test sends, redelivery
    # flags: platform-managed; evaluating one's own flags needs only PROFILE
    FLAGS_READ = "flags:read", Scope.PLATFORM  # list flags, their history, metrics, previews
    FLAGS_MANAGE = "flags:manage", Scope.PLATFORM  # create, change, toggle, schedule, refresh
    # payments (issue 12)
    BILLING_READ = "billing:read", Scope.TENANT  # a tenant's payments, invoices, subscription, plans
    BILLING_MANAGE = "billing:manage", Scope.TENANT  # mark invoices paid; change, cancel, renew the plan
    PAYMENTS_REFUND = "payments:refund", Scope.TENANT  # refund a payment through its gateway
    PLANS_MANAGE = "plans:manage", Scope.PLATFORM  # the plan catalogue
    GATEWAY_MANAGE = "gateway:manage", Scope.PLATFORM  # gateway events, reprocessing, reconciliation, status


def platform_only(permissions: Iterable[str]) -> list[str]:
    """The platform-scoped permissions among `permissions` (values or members), sorted."""
    platform = {p.value for p in Permission if p.scope is Scope.PLATFORM}
    return sorted({str(p) for p in permissions} & platform)


class TenantKind(StrEnum):
    """What a tenant is; chosen at creation, never changed (its users hold its kind's roles)."""

    PHARMACY = "pharmacy"  # guides 000/001
    DENTAL_PRACTICE = "dental_practice"  # guide 002
    WORKSHOP = "workshop"  # guide 003: a workshop organiser
    ESCROW_DESK = "escrow_desk"  # guide 004: an escrow platform's support desk


PLATFORM_KIND = "platform"  # the platform tenant's role set (not a kind a tenant can be created as)


@dataclass(frozen=True)
class BuiltinRole:
    name: str
    label: str
    kind: str  # a TenantKind value, or PLATFORM_KIND
    permissions: frozenset[Permission]


P = Permission
SUPER_ADMIN = "super_admin"
MANAGER = "manager"

# What a tenant's own admin gets, written out (no "everything minus X"): the tenant-scoped
# permissions as of issue 7. A new tenant permission joins this list by an edit here, in review.
_TENANT_ADMIN = frozenset(
    {
        P.PROFILE,
        P.TENANTS_READ,
        P.TENANT_UPDATE,
        P.USERS_READ,
        P.USERS_WRITE,
        P.USERS_SUSPEND,
        P.ROLES_READ,
        P.ROLES_WRITE,
        P.ROLES_ASSIGN,
        P.INVITATIONS_MANAGE,
        P.DATA_REQUESTS,
        P.AUDIT_READ,
        P.AUDIT_EXPORT,
        P.SECURITY_READ,
        P.SECURITY_MANAGE,
        P.SESSIONS_MANAGE,
        P.IMPERSONATE,
        # notifications (issue 10)
        P.NOTIFICATIONS_READ,
        P.NOTIFICATIONS_MANAGE,
        P.NOTIFICATIONS_SEND,
        # webhooks (issue 11)
        P.WEBHOOKS_READ,
        P.WEBHOOKS_MANAGE,
        # payments (issue 12)
        P.BILLING_READ,
        P.BILLING_MANAGE,
        P.PAYMENTS_REFUND,
    }
)
_STAFF = frozenset({P.PROFILE, P.USERS_READ, P.ROLES_READ, P.TENANTS_READ})
_CLERK = frozenset({P.PROFILE, P.TENANTS_READ})
_SELF = frozenset({P.PROFILE})

_ROLES = (
    # platform staff (the platform tenant only)
    BuiltinRole(
        SUPER_ADMIN,
        "Super Admin",
        PLATFORM_KIND,
        _TENANT_ADMIN
        | {
            P.TENANTS_LIST,
            P.TENANTS_MANAGE,
            P.SYSTEM_READ,
            P.FLAGS_READ,
            P.FLAGS_MANAGE,
            P.PLANS_MANAGE,
            P.GATEWAY_MANAGE,
        }
        | {P.EVENTS_READ, P.EVENTS_MANAGE, P.INVENTORY_ADJUST},  # checkout (issue 13)
    ),
    BuiltinRole(
        "support_agent",
        "Support Agent",
        PLATFORM_KIND,
        frozenset(
            {
                P.PROFILE,
                P.TENANTS_READ,
                P.TENANTS_LIST,
                P.USERS_READ,
                P.ROLES_READ,
                P.AUDIT_READ,
                P.SECURITY_READ,
                P.IMPERSONATE,
                P.FLAGS_READ,
            }
        ),
    ),
    BuiltinRole(
        "billing_admin",
        "Billing Admin",
        PLATFORM_KIND,
        # payments (issue 12): billing permissions instead of tenants:manage
        frozenset(
            {
                P.PROFILE,
                P.TENANTS_READ,
                P.TENANTS_LIST,
                P.AUDIT_READ,
                P.AUDIT_EXPORT,
                P.BILLING_READ,
                P.BILLING_MANAGE,
                P.PAYMENTS_REFUND,
                P.PLANS_MANAGE,
                P.GATEWAY_MANAGE,
            }
        ),
    ),
    BuiltinRole(
        "on_call_engineer",
        "On-call Engineer",
        PLATFORM_KIND,
        frozenset(
            {
                P.PROFILE,
                P.SYSTEM_READ,
                P.TENANTS_READ,
                P.TENANTS_LIST,
                P.USERS_READ,
                P.AUDIT_READ,
                P.SECURITY_READ,
                P.SESSIONS_MANAGE,
                P.FLAGS_READ,
                P.FLAGS_MANAGE,
            }
        ),
    ),
    # pharmacy (guides 000/001)
    BuiltinRole(MANAGER, "Pharmacy Manager", TenantKind.PHARMACY, _TENANT_ADMIN),
    BuiltinRole("pharmacist", "Pharmacist", TenantKind.PHARMACY, _STAFF),
    BuiltinRole("cashier", "Cashier", TenantKind.PHARMACY, _SELF),
    BuiltinRole("technician", "Technician", TenantKind.PHARMACY, _CLERK),
    # dental practice (guide 002)
    BuiltinRole("practice_admin", "Practice Admin", TenantKind.DENTAL_PRACTICE, _TENANT_ADMIN),
    BuiltinRole("dentist", "Dentist", TenantKind.DENTAL_PRACTICE, _STAFF),
    BuiltinRole("lab_technician", "Lab Technician", TenantKind.DENTAL_PRACTICE, _CLERK),
    BuiltinRole("front_desk", "Front Desk", TenantKind.DENTAL_PRACTICE, _STAFF),
    # workshop organiser (guide 003)
    BuiltinRole(
        "organiser_admin",
        "Organiser Admin",
        TenantKind.WORKSHOP,
        _TENANT_ADMIN | {P.EVENTS_READ, P.EVENTS_MANAGE, P.INVENTORY_ADJUST},  # checkout (issue 13)
    ),
    BuiltinRole(
        "event_manager", "Event Manager", TenantKind.WORKSHOP, _STAFF | {P.EVENTS_READ, P.EVENTS_MANAGE}
    ),
    BuiltinRole("check_in_staff", "Check-in Staff", TenantKind.WORKSHOP, _SELF),
    # escrow support desk (guide 004)
    BuiltinRole("support_manager", "Support Manager", TenantKind.ESCROW_DESK, _TENANT_ADMIN),
    BuiltinRole(
        "technical_lead",
        "Technical Lead",
        TenantKind.ESCROW_DESK,
        _STAFF | {P.AUDIT_READ, P.SECURITY_READ},
    ),
    BuiltinRole(
        "security_lead",
        "Security Lead",
        TenantKind.ESCROW_DESK,
        _STAFF | {P.AUDIT_READ, P.AUDIT_EXPORT, P.SECURITY_READ, P.SECURITY_MANAGE, P.SESSIONS_MANAGE},
    ),
    BuiltinRole("support_specialist", "Support Specialist", TenantKind.ESCROW_DESK, _STAFF),
)

BUILTIN_ROLES: dict[str, BuiltinRole] = {r.name: r for r in _ROLES}

# the role a tenant's first admin gets, by kind
ADMIN_ROLE: dict[str, str] = {
    PLATFORM_KIND: SUPER_ADMIN,
    TenantKind.PHARMACY: MANAGER,
    TenantKind.DENTAL_PRACTICE: "practice_admin",
    TenantKind.WORKSHOP: "organiser_admin",
    TenantKind.ESCROW_DESK: "support_manager",
}


def _check() -> None:
    """Import-time guard: unique names, no platform permission in a tenant role, admins of their kind."""
    if len(BUILTIN_ROLES) != len(_ROLES):
        raise RuntimeError("built-in role names must be unique across kinds")
    for role in _ROLES:
        if role.kind != PLATFORM_KIND and platform_only(role.permissions):
            raise RuntimeError(f"{role.name} is a tenant role: it cannot hold platform permissions")
    for kind, admin in ADMIN_ROLE.items():
        if BUILTIN_ROLES[admin].kind != kind:
            raise RuntimeError(f"{admin} is not a {kind} role")


_check()


def roles_of_kind(kind: str) -> list[BuiltinRole]:
    return [r for r in _ROLES if r.kind == kind]


def builtin_permissions(role: str) -> frozenset[Permission] | None:
    entry = BUILTIN_ROLES.get(role)
    return entry.permissions if entry else None
