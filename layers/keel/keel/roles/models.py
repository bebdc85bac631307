"""Roles as shown, and the requests of the role routes."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from keel.core.model import Model
from keel.core.permissions import Permission

ROLE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"  # a role name (built-in or custom)


class RoleOut(Model):
    name: str
    label: str
    description: str | None = None
    builtin: bool
    permissions: list[str]
    updated_at: str | None = None
    updated_by: str | None = None


class RoleCreate(Model):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ROLE_PATTERN, description="Lower-case id, e.g. `senior_pharmacist`")
    label: str = Field(min_length=2, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    permissions: list[Permission] = Field(min_length=1, description="From the published permission list")


class RoleUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, min_length=2, max_length=80)
    description: str | None = Field(default=None, max_length=500)
    permissions: list[Permission] | None = Field(default=None, min_length=1)
