"""Flag evaluation: compiled flags, sticky bucketing, OpenFeature reasons. Pure: no AWS, no I/O.

A stored flag (a plain dict) compiles once into a `Compiled` flag (frozensets, the hash prefix);
evaluating it for a `Subject` is then a few set lookups and at most one SHA-1.

Bucketing (shared/facts.md, LaunchDarkly's scheme): SHA-1 of `<flag key>.<salt>.<subject id>`,
the first 15 hex digits over 0xFFFFFFFFFFFFFFF, times 100: a number in [0, 100). A subject is in
a rollout of p % when its number is below p, so raising p only ever adds subjects, and lowering it
only removes them. The subject is the user, or the tenant for a tenant-scoped flag.

Order: archived or off -> the off variation (DISABLED); then the rules in order (every condition
of a rule must hold; within one condition any listed value matches; a rule with a percentage also
needs the subject's bucket below it): TARGETING_MATCH (SPLIT when the rule has a percentage); then
the flag-wide rollout (SPLIT); then the default variation (DEFAULT, or STATIC when the flag has no
targeting at all). A flag that cannot be compiled or evaluated answers its off value with ERROR.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TARGETING_MATCH = "TARGETING_MATCH"
SPLIT = "SPLIT"
DEFAULT = "DEFAULT"
DISABLED = "DISABLED"
STATIC = "STATIC"
ERROR = "ERROR"

DIMENSIONS = ("tenants", "plans", "roles", "regions", "users")
_SCALE = float(0xFFFFFFFFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a flag is evaluated for (from the session and the tenant item, never from the client)."""

    tenant_id: str
    user_id: str
    role: str | None = None
    plan: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    key: str
    value: Any
    variant: str | None
    reason: str
    error: str | None = None


def bucket(flag_key: str, salt: str, subject_id: str) -> float:
    """The subject's number in [0, 100) for this flag (sticky: the same inputs, the same number)."""
    digest = hashlib.sha1(f"{flag_key}.{salt}.{subject_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:15], 16) / _SCALE * 100.0


@dataclass(frozen=True, slots=True)
class Rule:
    tenants: frozenset[str] | None
    plans: frozenset[str] | None
    roles: frozenset[str] | None
    regions: frozenset[str] | None
    users: frozenset[str] | None
    percentage: float | None
    variant: str

    def conditions_hold(self, s: Subject) -> bool:
        return (
            (self.tenants is None or s.tenant_id in self.tenants)
            and (self.plans is None or s.plan in self.plans)
            and (self.roles is None or s.role in self.roles)
            and (self.regions is None or s.region in self.regions)
            and (self.users is None or s.user_id in self.users)
        )


def _set(values: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values else None


def compile_rule(raw: Mapping[str, Any]) -> Rule:
    pct = raw.get("percentage")
    return Rule(
        tenants=_set(raw.get("tenants")),
        plans=_set(raw.get("plans")),
        roles=_set(raw.get("roles")),
        regions=_set(raw.get("regions")),
        users=_set(raw.get("users")),
        percentage=None if pct is None or float(pct) >= 100 else float(pct),
        variant=str(raw["variation"]),
    )


@dataclass(frozen=True, slots=True)
class Compiled:
    key: str
    salt: str
    tenant_scoped: bool
    active: bool  # on and not archived
    variations: Mapping[str, Any]
    off_variant: str
    default_variant: str
    rules: tuple[Rule, ...]
    rollout: float | None  # flag-wide percentage (after the rules)
    rollout_variant: str | None

    def _bucket(self, s: Subject) -> float:
        return bucket(self.key, self.salt, s.tenant_id if self.tenant_scoped else s.user_id)

    def targeted(self, s: Subject) -> tuple[str, str]:
        """The variant and reason the targeting gives, whatever the on/off switch says."""
        number: float | None = None
        for rule in self.rules:
            if not rule.conditions_hold(s):
                continue
            if rule.percentage is None:
                return rule.variant, TARGETING_MATCH
            if number is None:
                number = self._bucket(s)
            if number < rule.percentage:
                return rule.variant, SPLIT
        if self.rollout is not None and self.rollout_variant is not None:
            if number is None:
                number = self._bucket(s)
            if number < self.rollout:
                return self.rollout_variant, SPLIT
        if not self.rules and self.rollout is None:
            return self.default_variant, STATIC
        return self.default_variant, DEFAULT

    def evaluate(self, s: Subject) -> Result:
        if not self.active:
            return Result(self.key, self.variations[self.off_variant], self.off_variant, DISABLED)
        variant, reason = self.targeted(s)
        return Result(self.key, self.variations[variant], variant, reason)


@dataclass(frozen=True, slots=True)
class Broken:
    """A stored flag that does not compile: it answers its off value (if readable) with ERROR."""

    key: str
    value: Any
    variant: str | None
    message: str

    def evaluate(self, s: Subject) -> Result:  # noqa: ARG002
        return Result(self.key, self.value, self.variant, ERROR, self.message)


def compile_flag(raw: Mapping[str, Any]) -> Compiled | Broken:
    key = str(raw.get("key", "?"))
    try:
        targeting = raw.get("targeting") or {}
        rollout = targeting.get("rollout")
        compiled = Compiled(
            key=key,
            salt=str(raw["salt"]),
            tenant_scoped=raw.get("scope") == "tenant",
            active=bool(raw.get("on")) and raw.get("status") != "archived",
            variations=dict(raw["variations"]),
            off_variant=str(raw["off_variation"]),
            default_variant=str(targeting.get("default_variation") or raw["off_variation"]),
            rules=tuple(compile_rule(r) for r in targeting.get("rules") or ()),
            rollout=None if rollout is None else float(rollout["percentage"]),
            rollout_variant=None if rollout is None else str(rollout["variation"]),
        )
        used = {compiled.off_variant, compiled.default_variant, *(r.variant for r in compiled.rules)}
        if compiled.rollout_variant is not None:
            used.add(compiled.rollout_variant)
        missing = used - set(compiled.variations)
        if missing:
            raise KeyError(f"unknown variation(s) {sorted(missing)}")
        return compiled
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        found = raw.get("variations")
        variations: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        off = raw.get("off_variation")
        value = variations.get(off) if isinstance(off, str) else None
        return Broken(key, value, off if isinstance(off, str) and off in variations else None, str(exc))


def evaluate(flag: Compiled | Broken, subject: Subject) -> Result:
    """Never raises: an unexpected failure answers the flag's off value with ERROR."""
    try:
        return flag.evaluate(subject)
    except Exception as exc:
        if isinstance(flag, Compiled):
            off = flag.variations.get(flag.off_variant)
            return Result(flag.key, off, flag.off_variant, ERROR, type(exc).__name__)
        return Result(flag.key, None, None, ERROR, type(exc).__name__)


def evaluate_all(flags: Iterable[Compiled | Broken], subject: Subject) -> list[Result]:
    return [evaluate(f, subject) for f in flags]


def unreachable_rules(rules: list[Mapping[str, Any]]) -> list[int]:
    """Indexes of rules an earlier rule always answers first (they can never match).

    Rule i shadows rule j (i < j) when i has no percentage and, on every dimension, i either has no
    condition or lists every value j's condition allows (j with no condition there allows anything,
    so i must have none either).
    """
    out: list[int] = []
    for j, later in enumerate(rules):
        for earlier in rules[:j]:
            pct = earlier.get("percentage")
            if pct is not None and float(pct) < 100:
                continue
            if all(_covers(earlier.get(d), later.get(d)) for d in DIMENSIONS):
                out.append(j)
                break
    return out


def _covers(earlier: list[str] | None, later: list[str] | None) -> bool:
    if not earlier:
        return True
    if not later:
        return False
    return set(later) <= set(earlier)
