"""Requests and responses of the authentication routes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from keel.core.email import Email
from keel.core.model import Model
from keel.users.models import UserOut


class LoginRequest(Model):
    email: Email
    password: str = Field(min_length=1, max_length=1024)
    remember_me: bool = False


class SessionOut(Model):
    token: str = Field(description="Bearer token; send as `Authorization: Bearer <token>`")
    session_id: str
    expires_at: int = Field(description="Absolute end, epoch seconds")
    idle_expires_at: int = Field(description="Ends earlier when idle this long, epoch seconds")
    user: UserOut


class LogoutOut(Model):
    ended: bool = True


class ActivateRequest(Model):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


# login with a second factor, passwords, 2FA enrolment (identity and security) ---------------

TwoFactorMethod = Literal["totp", "sms", "email"]


class LoginIn(LoginRequest):
    model_config = ConfigDict(extra="forbid")
    two_factor_method: TwoFactorMethod | None = Field(
        default=None, description="Which second factor to use when the account has several"
    )


class LoginOut(Model):
    """A session, or (when the account has 2FA) a challenge to complete with verify_2fa."""

    two_factor_required: bool = False
    token: str | None = Field(default=None, description="Bearer token (absent while a challenge is open)")
    session_id: str | None = None
    expires_at: int | None = None
    idle_expires_at: int | None = None
    user: UserOut | None = None
    challenge_token: str | None = Field(default=None, description="Pass to verify_2fa with the code")
    challenge_expires_at: int | None = None
    methods: list[str] = Field(default=[], description="Second factors the challenge accepts")
    code_sent_to: str | None = Field(default=None, description="Masked destination of an SMS/e-mail code")
    two_factor_setup_required: bool = Field(
        default=False, description="The tenant requires 2FA: set it up before the grace period ends"
    )
    suspicious: list[str] = Field(default=[], description="Flags the detector raised for this login")


class VerifyIn(Model):
    model_config = ConfigDict(extra="forbid")
    challenge_token: str = Field(min_length=10, max_length=200)
    code: str = Field(min_length=6, max_length=32)
    method: Literal["totp", "sms", "email", "backup_code"] | None = None


class ChangePasswordIn(Model):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class EmailIn(Model):
    model_config = ConfigDict(extra="forbid")
    email: Email


class ResetPasswordIn(Model):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class Accepted(Model):
    accepted: bool = True
    message: str = "If the address belongs to an account, an e-mail is on its way."


class Done(Model):
    done: bool = True
    sessions_ended: int = 0


class EnrollIn(Model):
    model_config = ConfigDict(extra="forbid")
    method: TwoFactorMethod
    phone: str | None = Field(default=None, max_length=32, description="E.164; SMS only (default: profile)")


class EnrollOut(Model):
    method: TwoFactorMethod
    otpauth_uri: str | None = Field(default=None, description="TOTP: scan into an authenticator app")
    secret: str | None = Field(default=None, description="TOTP: the base32 key, for manual entry")
    code_sent_to: str | None = None
    expires_at: int


class ConfirmIn(Model):
    model_config = ConfigDict(extra="forbid")
    method: TwoFactorMethod
    code: str = Field(min_length=6, max_length=12)


class ConfirmOut(Model):
    methods: list[str]
    backup_codes: list[str] = Field(default=[], description="Shown once, on the first method only")
    sessions_ended: int = 0


class BackupCodesOut(Model):
    backup_codes: list[str]
