"""Invitations as stored and shown, and the requests of the invitation routes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from keel.core.email import Email
from keel.core.model import Model
from keel.roles.models import ROLE_PATTERN

InvitationStatus = Literal["pending", "accepted", "expired", "revoked"]


class Invitation(Model):
    invitation_id: str
    tenant_id: str
    user_id: str = Field(description="The id the account will have once accepted")
    email: str
    name: str | None = None
    role: str
    status: InvitationStatus = "pending"
    invited_by: str
    created_at: str
    ends_at: str = Field(description="When the link stops working (`expires_at` is the table's TTL name)")
    expires_epoch: int
    sent_count: int = 1
    accepted_at: str | None = None
    revoked_at: str | None = None


class InvitationOut(Model):
    invitation_id: str
    tenant_id: str
    email: str
    name: str | None = None
    role: str
    status: InvitationStatus
    invited_by: str
    created_at: str
    expires_at: str
    sent_count: int
    accepted_at: str | None = None
    revoked_at: str | None = None
    user_id: str | None = Field(default=None, description="The account, once accepted")


class InvitationCreate(Model):
    model_config = ConfigDict(extra="forbid")
    email: Email
    role: str = Field(pattern=ROLE_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    expires_in_days: int = Field(default=7, ge=1, le=30)


class InvitationAccept(Model):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    name: str | None = Field(default=None, min_length=1, max_length=120)
