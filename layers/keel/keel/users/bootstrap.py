"""The first super admin: the platform tenant and one active super-admin user (idempotent)."""

from __future__ import annotations

from keel.core import clock, ids
from keel.core.permissions import SUPER_ADMIN
from keel.core.principal import PLATFORM_TENANT, Principal
from keel.identity import passwords
from keel.store.change import Change
from keel.tenants import repo
from keel.tenants.models import Limits, Tenant
from keel.users import repo as users
from keel.users.models import User, UserStatus


def create_super_admin(email: str, password: str, name: str = "Platform Admin") -> User:
    """Creates the platform tenant if needed and a super admin; returns the existing one if present."""
    passwords.check_baseline(password)
    existing = users.by_email(email)
    if existing is not None:
        return existing
    now = clock.iso()
    system = Principal.system(PLATFORM_TENANT, "bootstrap")
    change = Change(system)
    platform_repo = repo.for_tenant(PLATFORM_TENANT)
    if platform_repo.get() is None:
        platform = Tenant(
            tenant_id=PLATFORM_TENANT,
            name="Keel platform",
            plan="platform",
            kind="platform",
            limits=Limits(max_users=1000),
            user_count=1,
            created_at=now,
            updated_at=now,
        )
        platform_repo.add(change.tx, platform)
    user = User(
        user_id=ids.new_id("usr"),
        tenant_id=PLATFORM_TENANT,
        email=email,
        name=name,
        role=SUPER_ADMIN,
        status=UserStatus.ACTIVE,
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    users.add_new_user(change.tx, user)
    change.audit("user.bootstrap_super_admin", target_type="user", target_id=user.user_id)
    change.commit()
    return user
