"""Feature flags as stored and shown, and the requests of the flag routes (and OFREP's shapes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from keel.core.model import Model

FLAG_KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
VARIANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
REGION_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"

Id = str
Note = str


class Category(StrEnum):
    ANALYTICS = "analytics"
    BILLING = "billing"
    SECURITY = "security"
    UI = "ui"


class FlagStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class FlagScope(StrEnum):
    USER = "user"  # rollouts bucket users
    TENANT = "tenant"  # rollouts bucket tenants: a whole tenant is in or out


BOOLEAN_VARIATIONS: dict[str, JsonValue] = {"on": True, "off": False}


def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _check_variations(variations: dict[str, JsonValue]) -> None:
    import re

    for name in variations:
        if not re.fullmatch(VARIANT_PATTERN, name):
            raise ValueError(f"variation name {name!r} must match {VARIANT_PATTERN}")
    kinds = {_value_kind(v) for v in variations.values()}
    if len(kinds) > 1:
        raise ValueError("every variation of a flag has the same type (boolean, string, number or JSON)")


class Rule(Model):
    """Every condition given must hold; within one condition any listed value matches."""

    model_config = ConfigDict(extra="forbid")
    tenants: list[str] | None = Field(default=None, max_length=1000, description="Tenant ids")
    plans: list[str] | None = Field(default=None, max_length=50, description="Plan ids (keel.plans)")
    roles: list[str] | None = Field(default=None, max_length=50, description="Built-in role names")
    regions: list[str] | None = Field(default=None, max_length=50, description="The tenants' regions")
    users: list[str] | None = Field(default=None, max_length=1000, description="User ids")
    percentage: float | None = Field(
        default=None, ge=0, le=100, description="Only this share of the matching subjects (sticky)"
    )
    variation: str = Field(default="on", description="What the rule serves")


class Rollout(Model):
    model_config = ConfigDict(extra="forbid")
    percentage: float = Field(ge=0, le=100, description="Share of all subjects, after the rules (sticky)")
    variation: str = "on"


class Targeting(Model):
    model_config = ConfigDict(extra="forbid")
    rules: list[Rule] = Field(
        default_factory=list, max_length=50, description="In order; the first match wins"
    )
    rollout: Rollout | None = None
    default_variation: str = Field(
        default="off", description="Served when the flag is on and nothing matches"
    )


class Flag(Model):
    key: str
    name: str
    description: str | None = None
    category: Category
    status: FlagStatus = FlagStatus.ACTIVE
    on: bool = False
    scope: FlagScope = FlagScope.USER
    variations: dict[str, JsonValue]
    off_variation: str
    targeting: Targeting
    salt: str = Field(description="Part of every rollout hash: sticky buckets per flag")
    version: int = 1
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str


class FlagCreate(Model):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=FLAG_KEY_PATTERN, max_length=100, description="Immutable, e.g. `new-checkout`")
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    category: Category
    scope: FlagScope = FlagScope.USER
    variations: dict[str, JsonValue] = Field(
        default_factory=lambda: dict(BOOLEAN_VARIATIONS),
        min_length=2,
        max_length=20,
        description="Variant name -> value (all of one type); boolean `on`/`off` by default",
    )
    off_variation: str = Field(default="off", description="Served when the flag is off or archived")
    on: bool = False
    targeting: Targeting = Field(default_factory=Targeting)
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _variations(self) -> FlagCreate:
        _check_variations(self.variations)
        return self


class FlagUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    category: Category | None = None
    variations: dict[str, JsonValue] | None = Field(default=None, min_length=2, max_length=20)
    off_variation: str | None = None
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _variations(self) -> FlagUpdate:
        if self.variations is not None:
            _check_variations(self.variations)
        return self


class ToggleIn(Model):
    model_config = ConfigDict(extra="forbid")
    on: bool
    note: str = Field(min_length=3, max_length=500, description="Why (kept in the flag's history)")


class ArchiveIn(Model):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=500)


class TargetingIn(Model):
    model_config = ConfigDict(extra="forbid")
    targeting: Targeting
    note: str | None = Field(default=None, max_length=500)


class PreviewIn(Model):
    model_config = ConfigDict(extra="forbid")
    targeting: Targeting


class Flip(Model):
    tenant_id: str
    user_id: str | None = None
    before: str = Field(description="Variant served today")
    after: str = Field(description="Variant the proposed targeting serves")


class Reach(Model):
    tenants: int
    users: int


class PreviewOut(Model):
    """Exact (buckets are deterministic); computed with the flag on, whatever its switch says."""

    scope: FlagScope
    subjects: int = Field(description="Users (or tenants, for a tenant-scoped flag) considered")
    reached_before: Reach = Field(description="Reached (served by a rule or a rollout) today")
    reached_after: Reach = Field(description="Reached with the proposed targeting")
    flips: list[Flip] = Field(description="Every subject whose variant changes (at most 1,000 listed)")
    flip_count: int
    truncated: bool = False


class Evaluation(Model):
    key: str
    value: JsonValue
    variant: str | None
    reason: Literal["TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "STATIC", "ERROR"]
    error: str | None = None


class Evaluations(Model):
    flags: list[Evaluation]
    etag: str = Field(description="Same as the ETag header; send it as If-None-Match")


class HistoryEntry(Model):
    change_id: str
    flag_key: str
    action: str
    note: str | None = None
    diff: dict[str, Any] = Field(description="Changed fields: `{path: {from, to}}`")
    at: str
    by: str


class MetricsOut(Model):
    """Counts are per minute bucket; see the README for how exact they are."""

    key: str
    start: str
    end: str
    total: int
    variations: dict[str, int]
    minutes: list[dict[str, Any]] = Field(description="`{minute, counts: {variant: n}}`, oldest first")


class ChangeAction(StrEnum):
    TOGGLE = "toggle"
    TARGETING = "targeting"
    ROLLOUT = "rollout"


class ScheduleIn(Model):
    model_config = ConfigDict(extra="forbid")
    run_at: datetime = Field(description="When to apply (ISO 8601 with offset; applied within a minute)")
    action: ChangeAction
    note: str = Field(min_length=3, max_length=500)
    on: bool | None = Field(default=None, description="toggle: the new switch")
    targeting: Targeting | None = Field(default=None, description="targeting: the new targeting")
    percentage: float | None = Field(default=None, ge=0, le=100, description="rollout: the new percentage")
    rule: int | None = Field(
        default=None, ge=0, lt=50, description="rollout: this rule's percentage (none: the flag-wide rollout)"
    )


class ScheduledChange(Model):
    change_id: str
    flag_key: str
    run_at: str
    action: ChangeAction
    note: str
    on: bool | None = None
    targeting: Targeting | None = None
    percentage: float | None = None
    rule: int | None = None
    status: Literal["pending", "applied", "failed", "cancelled"]
    created_at: str
    created_by: str
    applied_at: str | None = None
    error: str | None = None


class CacheRefreshed(Model):
    version: int = Field(description="The flag set's version; every evaluator reloads on its next request")


# OFREP (OpenFeature Remote Evaluation Protocol) -------------------------------------------------


class OfrepRequest(Model):
    """OFREP's body. Keel evaluates for the session's own user: the context is accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    context: dict[str, JsonValue] | None = None


class OfrepFlag(Model):
    key: str
    value: JsonValue = None
    reason: str
    variant: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    errorCode: str | None = None
    errorDetails: str | None = None


class OfrepBulk(Model):
    flags: list[OfrepFlag]
