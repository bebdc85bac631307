"""The user as stored and as shown."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, EmailStr


class UserStatus(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


class User(BaseModel):
    """Stored shape (password hash included); never returned by the API as is."""

    user_id: str
    tenant_id: str
    email: EmailStr
    name: str
    role: str
    status: UserStatus = UserStatus.PENDING_ACTIVATION
    phone: str | None = None
    password_hash: str | None = None
    password_changed_at: str | None = None
    created_at: str
    updated_at: str
    last_login_at: str | None = None
    two_factor_methods: list[str] = []  # confirmed 2FA methods (totp, sms, email)
    extra: dict[str, Any] = {}


class UserOut(BaseModel):
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
