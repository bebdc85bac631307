"""Tenant shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from keel.core.email import Email
from keel.core.model import Model
from keel.core.permissions import TenantKind


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Limits(Model):
    model_config = ConfigDict(extra="forbid")
    max_users: int = Field(default=25, ge=1, le=100_000)


class Tenant(Model):
    tenant_id: str
    name: str
    plan: str
    kind: TenantKind | Literal["platform"] = Field(
        default=TenantKind.PHARMACY, description="Which built-in roles the tenant has; set at creation"
    )
    status: TenantStatus = TenantStatus.ACTIVE
    limits: Limits = Limits()
    region: str | None = Field(default=None, description="Where the tenant operates (flag targeting)")
    user_count: int = 0
    created_at: str
    updated_at: str


class AdminIn(Model):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: str = Field(min_length=1, max_length=120)


class TenantCreate(Model):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=120)
    plan: str = Field(default="starter", pattern=r"^[a-z0-9_-]{2,40}$")
    kind: TenantKind = Field(
        default=TenantKind.PHARMACY,
        description="Its built-in roles and its first admin's role; cannot be changed later",
    )
    limits: Limits = Limits()
    region: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,39}$", description="e.g. `ng-lagos`"
    )
    admin: AdminIn = Field(description="The tenant's first admin; they get an activation e-mail")


class TenantCreated(Model):
    tenant: Tenant
    admin_user_id: str


class TenantUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=2, max_length=120)
    plan: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{2,40}$")
    status: TenantStatus | None = None
    limits: Limits | None = None
    region: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
