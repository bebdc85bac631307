"""The role -> permission table, pinned: any change to a grant shows up here, in review."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from keel.core import permissions
from keel.core.errors import KeelError
from keel.core.permissions import ADMIN_ROLE, BUILTIN_ROLES, PLATFORM_KIND, Permission, Scope, TenantKind
from keel.core.principal import Principal

_ADMIN = (
    "audit:export audit:read data:requests invitations:manage profile:self roles:assign roles:read "
    "roles:write security:manage security:read sessions:manage tenant:update tenants:read "
    "users:impersonate users:read users:suspend users:write"
    # notifications (issue 10)
    " notifications:manage notifications:read notifications:send"
    # payments (issue 12)
    " billing:manage billing:read payments:refund"
)
_ADMIN += " webhooks:manage webhooks:read"  # webhooks (issue 11)
_STAFF = "profile:self roles:read tenants:read users:read"

# role: (kind, what it is granted)
TABLE: dict[str, tuple[str, str]] = {
    "super_admin": (
        "platform",
        _ADMIN
        + " events:manage events:read inventory:adjust system:read tenants:list tenants:manage"
        + " flags:read flags:manage gateway:manage plans:manage",
    ),
    "support_agent": (
        "platform",
        "audit:read profile:self roles:read security:read tenants:list tenants:read users:impersonate "
        "users:read flags:read",
    ),
    "billing_admin": (
        "platform",
        # payments (issue 12): billing permissions, no longer tenants:manage
        "audit:export audit:read profile:self tenants:list tenants:read billing:manage billing:read "
        "payments:refund plans:manage gateway:manage",
    ),
    "on_call_engineer": (
        "platform",
        "audit:read profile:self security:read sessions:manage system:read tenants:list tenants:read "
        "users:read flags:read flags:manage",
    ),
    "manager": ("pharmacy", _ADMIN),
    "pharmacist": ("pharmacy", _STAFF),
    "cashier": ("pharmacy", "profile:self"),
    "technician": ("pharmacy", "profile:self tenants:read"),
    "practice_admin": ("dental_practice", _ADMIN),
    "dentist": ("dental_practice", _STAFF),
    "lab_technician": ("dental_practice", "profile:self tenants:read"),
    "front_desk": ("dental_practice", _STAFF),
    "organiser_admin": ("workshop", _ADMIN + " events:manage events:read inventory:adjust"),
    "event_manager": ("workshop", _STAFF + " events:manage events:read"),
    "check_in_staff": ("workshop", "profile:self"),
    "support_manager": ("escrow_desk", _ADMIN),
    "technical_lead": ("escrow_desk", _STAFF + " audit:read security:read"),
    "security_lead": (
        "escrow_desk",
        _STAFF + " audit:export audit:read security:manage security:read sessions:manage",
    ),
    "support_specialist": ("escrow_desk", _STAFF),
}

PLATFORM_PERMISSIONS = {
    "tenants:list",
    "tenants:manage",
    "system:read",
    "flags:read",
    "flags:manage",
    "plans:manage",
    "gateway:manage",
}


def test_the_role_permission_table_is_exactly_this() -> None:
    actual = {name: (r.kind, sorted(p.value for p in r.permissions)) for name, r in BUILTIN_ROLES.items()}
    expected = {name: (kind, sorted(grants.split())) for name, (kind, grants) in TABLE.items()}
    assert actual == expected


def test_every_permission_declares_its_scope() -> None:
    assert all(isinstance(p.scope, Scope) for p in Permission)
    assert {p.value for p in Permission if p.scope is Scope.PLATFORM} == PLATFORM_PERMISSIONS


def test_tenant_roles_hold_no_platform_permission_and_each_kind_has_its_admin() -> None:
    for role in BUILTIN_ROLES.values():
        if role.kind != PLATFORM_KIND:
            assert not {p.value for p in role.permissions} & PLATFORM_PERMISSIONS, role.name
    assert ADMIN_ROLE == {
        "platform": "super_admin",
        "pharmacy": "manager",
        "dental_practice": "practice_admin",
        "workshop": "organiser_admin",
        "escrow_desk": "support_manager",
    }
    assert {r.kind for r in BUILTIN_ROLES.values()} == {PLATFORM_KIND, *TenantKind}


def test_a_new_permission_is_granted_to_nobody(tmp_path: Path) -> None:
    """The module, loaded again with one more permission, grants exactly what it granted before."""
    source = inspect.getsource(permissions)
    anchor = '    PROFILE = "profile:self", Scope.TENANT'
    assert anchor in source
    path = tmp_path / "permissions_extended.py"
    path.write_text(source.replace(anchor, anchor + '\n    BRAND_NEW = "brand:new", Scope.TENANT', 1))
    spec = importlib.util.spec_from_file_location("permissions_extended", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert "brand:new" in {p.value for p in module.Permission}
    before = {n: {p.value for p in r.permissions} for n, r in BUILTIN_ROLES.items()}
    after = {n: {p.value for p in r.permissions} for n, r in module.BUILTIN_ROLES.items()}
    assert after == before


def test_platform_staff_may_name_any_tenant_tenant_users_and_impersonators_may_not() -> None:
    agent = Principal(tenant_id="platform", user_id="a", role="support_agent", permissions=frozenset())
    assert agent.tenant_scope("ten_b") == "ten_b"
    as_user = Principal(
        tenant_id="platform", user_id="u", role="support_agent", permissions=frozenset(), kind="impersonation"
    )
    boss = Principal(tenant_id="ten_a", user_id="b", role="manager", permissions=frozenset(Permission))
    for caller in (as_user, boss):
        with pytest.raises(KeelError) as err:
            caller.tenant_scope("ten_b")
        assert err.value.status == 404
