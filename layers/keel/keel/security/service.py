"""The tenant's security settings operations and the password-policy preview."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from keel.core import clock
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.identity import repo as identity
from keel.identity import sessions
from keel.security import repo
from keel.security.models import (
    Enforcement,
    ImpersonationSettings,
    IpAllowlist,
    PasswordPolicy,
    PolicyPreview,
    SessionSettings,
    TwoFactorSettings,
)
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import UserStatus

M = TypeVar("M", bound=BaseModel)


def read(principal: Principal, section: str, tenant_id: str | None) -> Any:
    principal.require(Permission.SECURITY_READ)
    return getattr(repo.get(principal.tenant_scope(tenant_id)), section)


def update(principal: Principal, section: str, value: M, tenant_id: str | None) -> M:
    principal.require(Permission.SECURITY_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    current = repo.get(scoped)
    before = getattr(current, section)
    if isinstance(value, TwoFactorSettings):
        required = value.enforcement is Enforcement.REQUIRED
        was = current.two_factor.enforcement is Enforcement.REQUIRED
        value.required_since = (
            (current.two_factor.required_since or clock.now())
            if (required and was)
            else (clock.now() if required else None)
        )
    change = Change(principal)
    repo.put_section(change.tx, scoped, section, value, principal.actor)
    changed = sorted(
        k for k, v in value.model_dump(mode="json").items() if before.model_dump(mode="json").get(k) != v
    )
    change.audit(
        f"security.update_{section}",
        event_type="security_settings_changed",
        tenant_id=scoped,
        target_type="tenant",
        target_id=scoped,
        severity="warning",
        details={"section": section, "changed": changed},
    )
    change.commit()
    if isinstance(value, SessionSettings):
        _apply_to_open_sessions(scoped, value)
    return value


def _apply_to_open_sessions(tenant_id: str, cfg: SessionSettings) -> int:
    """Open sessions follow new settings at once: each carries its own limits (one read per request)."""
    done = 0
    open_sessions = identity.for_tenant(tenant_id)
    for item in open_sessions.tenant_sessions():
        if item.get("actor_id") or not sessions.is_live(item):
            continue
        absolute = min(int(item["absolute_expires"]), int(item["created_at"]) + cfg.max_duration_minutes * 60)
        open_sessions.limit_session(item, cfg.idle_timeout_minutes * 60, absolute)
        done += 1
    return done


def preview_policy(principal: Principal, proposed: PasswordPolicy, tenant_id: str | None) -> PolicyPreview:
    """How many active users the proposed policy would force to change their password."""
    principal.require(Permission.SECURITY_READ)
    scoped = principal.tenant_scope(tenant_id)
    now = clock.now()
    counts = {"users": 0, "must_change": 0, "too_short": 0, "missing_complexity": 0, "expired": 0}
    wanted = {
        c
        for c, on in (
            ("upper", proposed.require_upper),
            ("lower", proposed.require_lower),
            ("digit", proposed.require_digit),
            ("symbol", proposed.require_symbol),
        )
        if on
    }
    for user in users.for_tenant(scoped).every():
        if user.status is not UserStatus.ACTIVE:
            continue
        counts["users"] += 1
        st = user.password_strength or {}
        short = bool(st) and int(st.get("length", 0)) < proposed.min_length
        weak = bool(st) and not wanted <= set(st.get("classes", []))
        changed = user.password_changed_at
        old = bool(
            proposed.max_age_days
            and changed
            and clock.parse(changed) + timedelta(days=proposed.max_age_days) <= now
        )
        counts["too_short"] += short
        counts["missing_complexity"] += weak
        counts["expired"] += old
        counts["must_change"] += short or weak or old
    return PolicyPreview(**counts)


SECTION_MODELS = {
    "password_policy": PasswordPolicy,
    "two_factor": TwoFactorSettings,
    "sessions": SessionSettings,
    "ip_allowlist": IpAllowlist,
    "impersonation": ImpersonationSettings,
}
