"""The user as stored and as shown, and the requests of the user routes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from keel.core.email import Email
from keel.core.model import Model
from keel.roles.models import ROLE_PATTERN


class UserStatus(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


SuspensionReason = Literal[
    "policy_violation", "security_concern", "account_compromise", "billing_issue", "other"
]


class Suspension(Model):
    reason: SuspensionReason
    notes: str | None = None
    until: str | None = Field(default=None, description="ISO time it lifts itself; absent: indefinite")
    by: str
    at: str
    previous_status: UserStatus = UserStatus.ACTIVE


class User(Model):
    """Stored shape (password hash included); never returned by the API as is."""

    user_id: str
    tenant_id: str
    email: str
    name: str
    role: str
    status: UserStatus = UserStatus.PENDING_ACTIVATION
    phone: str | None = None
    notification_email: str | None = None
    pending_email: str | None = None
    password_hash: str | None = None
    password_changed_at: str | None = None
    created_at: str
    updated_at: str
    last_login_at: str | None = None
    two_factor_methods: list[str] = []  # confirmed 2FA methods (totp, sms, email)
    password_strength: dict[str, Any] | None = None  # length and classes, for policy previews
    must_change_password: bool = False  # a temporary password set by an admin
    # False: created by an admin with an address that has an account in another tenant; the
    # address is reserved at activation, which the other account's holder cannot pass
    email_reserved: bool = True
    suspension: Suspension | None = None
    extra: dict[str, Any] = {}


class UserOut(Model):
    """What the API shows of a user."""

    user_id: str
    tenant_id: str
    email: str
    name: str
    role: str
    status: UserStatus
    phone: str | None = None
    created_at: str
    last_login_at: str | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user.model_dump(include=set(cls.model_fields)))


class TenantSummary(Model):
    tenant_id: str
    name: str
    plan: str = Field(description="The tenant's subscription plan")


class UserDetail(UserOut):
    """get_user: profile, role and its permissions, tenant and plan, status, 2FA, last login."""

    notification_email: str | None = None
    pending_email: str | None = Field(default=None, description="New e-mail awaiting verification")
    permissions: list[str]
    tenant: TenantSummary | None = None
    two_factor_enabled: bool
    two_factor_methods: list[str]
    suspension: Suspension | None = None
    updated_at: str


def e164(value: str | None) -> str | None:
    """A phone number in E.164 (`+` and country code required); ValueError names what is wrong."""
    if value is None:
        return None
    import phonenumbers  # heavy (metadata of every country): only when a phone is given

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone must be an international number such as +2348012345678") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("phone is not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class UserCreate(Model):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(pattern=ROLE_PATTERN)
    phone: str | None = Field(default=None, max_length=32, description="E.164 after normalisation")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return e164(value)


class UserUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32, description="E.164 after normalisation")
    notification_email: Email | None = None
    email: Email | None = Field(
        default=None, description="Login e-mail: changes only once confirmed from a link sent to it"
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return e164(value)


class EmailChangeConfirm(Model):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)


class UserFilter(Model):
    tenant_id: str | None = None
    role: str | None = None
    status: UserStatus | None = None
    registered_from: date | datetime | None = None
    registered_to: date | datetime | None = None
    q: str | None = None


class RoleChange(Model):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern=ROLE_PATTERN)
    reason: str = Field(min_length=3, max_length=500)


class RoleHistoryEntry(Model):
    user_id: str
    from_role: str
    to_role: str
    reason: str
    changed_by: str
    changed_at: str


class BulkRoleChange(Model):
    model_config = ConfigDict(extra="forbid")
    user_ids: list[str] = Field(min_length=1, max_length=100)
    role: str = Field(pattern=ROLE_PATTERN)
    reason: str = Field(min_length=3, max_length=500)


class BulkItemResult(Model):
    user_id: str
    ok: bool
    from_role: str | None = None
    code: str | None = None
    message: str | None = None


class BulkRoleChangeResult(Model):
    role: str
    changed: int
    failed: int
    results: list[BulkItemResult]


class SuspendRequest(Model):
    model_config = ConfigDict(extra="forbid")
    reason: SuspensionReason
    until: datetime | None = Field(default=None, description="Lifts itself then; omit for indefinite")
    notes: str | None = Field(default=None, max_length=2000)


class UnsuspendRequest(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)
