"""Tenant security settings, each section with defaults (NIST SP 800-63B rev. 4, OWASP ASVS 5)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from keel.core.model import Model
from keel.core.permissions import ADMIN_ROLE, TenantKind, roles_of_kind


class PasswordPolicy(Model):
    model_config = ConfigDict(extra="forbid")
    min_length: int = Field(default=8, ge=8, le=64, description="NIST: at least 8")
    require_upper: bool = False
    require_lower: bool = False
    require_digit: bool = False
    require_symbol: bool = False
    max_age_days: int = Field(default=0, ge=0, le=3650, description="0: passwords never expire")
    history: int = Field(default=5, ge=0, le=24, description="previous passwords that cannot be reused")
    lockout_threshold: int = Field(default=5, ge=1, le=100, description="failed logins before a lock")
    lockout_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    force_reset_at: datetime | None = Field(
        default=None, description="passwords set before this moment must be changed from then on"
    )


class Enforcement(StrEnum):
    OPTIONAL = "optional"
    RECOMMENDED = "recommended"
    REQUIRED = "required"


class Method(StrEnum):
    TOTP = "totp"
    SMS = "sms"
    EMAIL = "email"


class TwoFactorSettings(Model):
    model_config = ConfigDict(extra="forbid")
    enforcement: Enforcement = Enforcement.OPTIONAL
    methods: list[Method] = Field(
        default_factory=lambda: [Method.TOTP, Method.SMS, Method.EMAIL], min_length=1
    )
    grace_period_days: int = Field(default=7, ge=0, le=90)
    exempt_roles: list[str] = Field(default_factory=list, max_length=50)
    required_since: datetime | None = Field(default=None, description="set when enforcement became required")


class SessionSettings(Model):
    model_config = ConfigDict(extra="forbid")
    max_duration_minutes: int = Field(default=12 * 60, ge=5, le=30 * 24 * 60)
    idle_timeout_minutes: int = Field(default=60, ge=1, le=24 * 60)
    max_concurrent: int = Field(default=5, ge=1, le=100, description="the oldest ends when one more starts")


class IpAllowlist(Model):
    model_config = ConfigDict(extra="forbid")
    entries: list[str] = Field(
        default_factory=list, max_length=200, description="IPs and CIDRs never flagged"
    )
    failed_login_threshold: int = Field(default=10, ge=1, le=10_000, description="failures per IP per window")
    window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    flag_new_ip: bool = True
    flag_new_country: bool = True
    flag_concurrent_locations: bool = True

    @field_validator("entries")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        out = []
        for entry in value:
            try:
                out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
            except ValueError as exc:
                raise ValueError(f"not an IP address or CIDR: {entry!r}") from exc
        return out


class ImpersonationRule(Model):
    model_config = ConfigDict(extra="forbid")
    actor_role: str = Field(min_length=1, max_length=64)
    target_roles: list[str] = Field(min_length=1, max_length=50)


def _default_rules() -> list[ImpersonationRule]:
    """Platform super admins and support agents; each kind's admin over the other roles of its kind.

    (A target whose role holds a permission the actor lacks is refused whatever the rules say.)
    """
    rules = [
        ImpersonationRule(actor_role="super_admin", target_roles=["*"]),
        ImpersonationRule(actor_role="support_agent", target_roles=["*"]),
    ]
    for kind in TenantKind:
        admin = ADMIN_ROLE[kind]
        others = [r.name for r in roles_of_kind(kind) if r.name != admin]
        rules.append(ImpersonationRule(actor_role=admin, target_roles=others))
    return rules


class ImpersonationSettings(Model):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    rules: list[ImpersonationRule] = Field(default_factory=_default_rules, max_length=50)
    max_minutes: int = Field(default=240, ge=5, le=240, description="at most 4 hours")

    def allows(self, actor_role: str, target_role: str) -> bool:
        return self.enabled and any(
            r.actor_role == actor_role and ("*" in r.target_roles or target_role in r.target_roles)
            for r in self.rules
        )


class SecuritySettings(Model):
    """Everything a login needs from the tenant, in one item (read with the user in one call)."""

    password_policy: PasswordPolicy = PasswordPolicy()
    two_factor: TwoFactorSettings = TwoFactorSettings()
    sessions: SessionSettings = SessionSettings()
    ip_allowlist: IpAllowlist = IpAllowlist()
    impersonation: ImpersonationSettings = ImpersonationSettings()


SECTIONS: dict[str, type[BaseModel]] = {
    "password_policy": PasswordPolicy,
    "two_factor": TwoFactorSettings,
    "sessions": SessionSettings,
    "ip_allowlist": IpAllowlist,
    "impersonation": ImpersonationSettings,
}


class PolicyPreview(Model):
    users: int = Field(description="active users in the tenant")
    must_change: int = Field(description="users the proposed policy would force to change their password")
    too_short: int
    missing_complexity: int
    expired: int
