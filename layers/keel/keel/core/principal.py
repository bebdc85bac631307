"""Who is calling, from where, and what they may do. Every request carries one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.core.permissions import SUPER_ADMIN, Permission

PLATFORM_TENANT = "platform"


@dataclass(frozen=True)
class RequestMeta:
    """Where a call came from; audit records and security checks read it."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    user_id: str
    role: str
    permissions: frozenset[str]
    kind: Literal["session", "impersonation", "api_key", "system"] = "session"
    session_id: str | None = None
    # while impersonating, `user_id` is the user acted as and `actor_id` the real person
    actor_id: str | None = None
    meta: RequestMeta = field(default_factory=RequestMeta)

    @property
    def is_super_admin(self) -> bool:
        return self.role == SUPER_ADMIN and self.tenant_id == PLATFORM_TENANT and self.kind != "impersonation"

    @property
    def is_platform_staff(self) -> bool:
        """Anyone of the platform tenant (super admin, support, billing, on-call), not impersonating."""
        return self.tenant_id == PLATFORM_TENANT and self.kind != "impersonation"

    @property
    def actor(self) -> str:
        return self.actor_id or self.user_id

    @property
    def acting_as(self) -> str | None:
        return self.user_id if self.actor_id else None

    def can(self, permission: Permission | str) -> bool:
        return str(permission) in self.permissions

    def require(self, permission: Permission | str) -> None:
        if not self.can(permission):
            raise KeelError(ErrorCode.SAAS_001, f"Missing permission {permission}")

    def tenant_scope(self, tenant_id: str | None) -> str:
        """The tenant a call works on: platform staff may name any (their role's permissions still
        apply there); everyone else gets their own.

        Naming another tenant answers 404 (never 403), so ids of other tenants leak nothing.
        """
        if tenant_id is None or tenant_id == self.tenant_id:
            return self.tenant_id
        if self.is_platform_staff:
            return tenant_id
        raise not_found(Kind.TENANT)

    def with_meta(self, meta: RequestMeta) -> Principal:
        return replace(self, meta=meta)

    @classmethod
    def system(cls, tenant_id: str = PLATFORM_TENANT, job: str = "system") -> Principal:
        return cls(
            tenant_id=tenant_id,
            user_id=f"system:{job}",
            role=SUPER_ADMIN,
            permissions=frozenset(Permission),
            kind="system",
        )
