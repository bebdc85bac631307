"""Flag rules: platform staff manage flags; everyone evaluates their own.

Every change is one transaction (store/change.py): the flag, the flag set's version (so every
warm evaluator reloads on its next request), a history entry with the note and the diff, a
`flag.*` event and the audit record. Flags carry a version: a change made from a stale read is
refused (409) instead of overwriting another.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, invalid
from keel.core.pagination import Page
from keel.core.permissions import BUILTIN_ROLES, Permission
from keel.core.principal import PLATFORM_TENANT, Principal
from keel.flags import cache, counters, engine, repo
from keel.flags.models import (
    ID_PATTERN,
    REGION_PATTERN,
    ArchiveIn,
    CacheRefreshed,
    ChangeAction,
    Evaluation,
    Flag,
    FlagCreate,
    FlagStatus,
    FlagUpdate,
    Flip,
    HistoryEntry,
    MetricsOut,
    OfrepFlag,
    PreviewIn,
    PreviewOut,
    Reach,
    Rollout,
    ScheduledChange,
    ScheduleIn,
    Targeting,
    TargetingIn,
    ToggleIn,
)
from keel.store.change import Change

MAX_FLIPS = 1000
MAX_SCHEDULE_AHEAD = timedelta(days=366)
_QUIET = {"updated_at", "updated_by", "version"}


# reading ---------------------------------------------------------------------------------------


def list_flags(
    principal: Principal, status: str | None, category: str | None, limit: int, cursor: str | None
) -> Page[Flag]:
    principal.require(Permission.FLAGS_READ)
    items, next_cursor = repo.page(limit, cursor, status, category)
    return Page[Flag](items=items, next_cursor=next_cursor)


def get_flag(principal: Principal, key: str) -> Flag:
    principal.require(Permission.FLAGS_READ)
    return repo.require(key)


def list_history(principal: Principal, key: str, limit: int, cursor: str | None) -> Page[HistoryEntry]:
    principal.require(Permission.FLAGS_READ)
    repo.require(key)
    items, next_cursor = repo.history(key, limit, cursor)
    return Page[HistoryEntry](items=items, next_cursor=next_cursor)


# validation ------------------------------------------------------------------------------------


def _matches_everyone(rule: Any) -> bool:
    return not any(getattr(rule, d) for d in engine.DIMENSIONS) and rule.percentage is None


def _check_targeting(  # noqa: PLR0912  (one check per field, in the order of the body)
    targeting: Targeting, variations: dict[str, Any], field: str = "targeting"
) -> None:
    """Unknown variation, plan, role; malformed ids; rules that can never match: 422 naming the field."""
    plan_ids: set[str] | None = None
    for i, rule in enumerate(targeting.rules):
        at = f"{field}.rules[{i}]"
        if rule.variation not in variations:
            raise invalid(f"{at}.variation", f"Unknown variation {rule.variation!r}")
        if rule.plans:
            if plan_ids is None:
                from keel.plans import repo as plans

                plan_ids = plans.plan_ids()
            unknown = sorted(set(rule.plans) - plan_ids)
            if unknown:
                raise invalid(f"{at}.plans", f"Unknown plan(s): {', '.join(unknown)}")
        if rule.roles:
            unknown = sorted(set(rule.roles) - set(BUILTIN_ROLES))
            if unknown:
                raise invalid(f"{at}.roles", f"Unknown role(s): {', '.join(unknown)}")
        for name, pattern in (("tenants", ID_PATTERN), ("users", ID_PATTERN), ("regions", REGION_PATTERN)):
            bad = [v for v in getattr(rule, name) or () if not re.fullmatch(pattern, v)]
            if bad:
                raise invalid(f"{at}.{name}", f"Malformed value {bad[0][:64]!r}")
        if _matches_everyone(rule) and i < len(targeting.rules) - 1:
            raise invalid(f"{field}.rules[{i + 1}]", f"Can never match: rule {i} matches everyone")
    for j in engine.unreachable_rules([r.model_dump() for r in targeting.rules]):
        raise invalid(f"{field}.rules[{j}]", "Can never match: an earlier rule always answers first")
    if targeting.rollout and targeting.rollout.variation not in variations:
        raise invalid(f"{field}.rollout.variation", f"Unknown variation {targeting.rollout.variation!r}")
    if targeting.default_variation not in variations:
        raise invalid(f"{field}.default_variation", f"Unknown variation {targeting.default_variation!r}")


def _check_flag(flag: Flag) -> None:
    if flag.off_variation not in flag.variations:
        raise invalid("off_variation", f"Unknown variation {flag.off_variation!r}")
    _check_targeting(flag.targeting, flag.variations)


def _writable(flag: Flag) -> None:
    if flag.status is FlagStatus.ARCHIVED:
        raise KeelError(ErrorCode.SAAS_020, f"Flag {flag.key!r} is archived")


# writing ---------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def diff(before: Flag | None, after: Flag) -> dict[str, Any]:
    """`{path: {from, to}}` for every field that changed (nested objects by dotted path)."""
    old = _flatten(before.model_dump(mode="json", exclude=_QUIET)) if before else {}
    new = _flatten(after.model_dump(mode="json", exclude=_QUIET))
    return {
        path: {"from": old.get(path), "to": new.get(path)}
        for path in sorted(set(old) | set(new))
        if old.get(path) != new.get(path)
    }


def _save(
    change: Change,
    before: Flag | None,
    after: Flag,
    *,
    action: str,
    note: str | None,
) -> Flag:
    """The flag, the version bump, the history entry and the audit record (the caller emits)."""
    if before is None:
        repo.add(change.tx, after)
    else:
        repo.replace(change.tx, after, before.version)
    repo.bump_version(change.tx)
    changed = diff(before, after)
    entry = HistoryEntry(
        change_id=ids.ulid(),
        flag_key=after.key,
        action=action,
        note=note,
        diff=changed,
        at=after.updated_at,
        by=after.updated_by,
    )
    repo.add_history(change.tx, entry)
    change.audit(
        f"flag.{action}",
        event_type=f"flag_{action}",
        tenant_id=PLATFORM_TENANT,
        target_type="flag",
        target_id=after.key,
        details={"note": note, "diff": changed},
    )
    return after


def _ref(flag: Flag) -> dict[str, Any]:
    return {"flag_key": flag.key, "version": flag.version}


def _next(flag: Flag, principal: Principal, **changes: Any) -> Flag:
    return flag.model_copy(
        update={
            **changes,
            "version": flag.version + 1,
            "updated_at": clock.iso(),
            "updated_by": principal.actor,
        }
    )


def create_flag(principal: Principal, body: FlagCreate) -> Flag:
    principal.require(Permission.FLAGS_MANAGE)
    now = clock.iso()
    flag = Flag(
        key=body.key,
        name=body.name,
        description=body.description,
        category=body.category,
        on=body.on,
        scope=body.scope,
        variations=body.variations,
        off_variation=body.off_variation,
        targeting=body.targeting,
        salt=ids.token(8),
        version=1,
        created_at=now,
        created_by=principal.actor,
        updated_at=now,
        updated_by=principal.actor,
    )
    _check_flag(flag)
    change = Change(principal)
    _save(change, None, flag, action="create", note=body.note)
    change.emit("flag.created", _ref(flag), tenant_id=PLATFORM_TENANT)
    change.commit()
    return flag


def update_flag(principal: Principal, key: str, body: FlagUpdate) -> Flag:
    principal.require(Permission.FLAGS_MANAGE)
    flag = repo.require(key)
    _writable(flag)
    changes = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"note"})
    if not changes:
        return flag
    after = _next(flag, principal, **changes)
    _check_flag(after)
    change = Change(principal)
    _save(change, flag, after, action="update", note=body.note)
    change.emit("flag.updated", _ref(after), tenant_id=PLATFORM_TENANT)
    change.commit()
    return after


def toggle_flag(principal: Principal, key: str, body: ToggleIn) -> Flag:
    principal.require(Permission.FLAGS_MANAGE)
    flag = repo.require(key)
    _writable(flag)
    after = _next(flag, principal, on=body.on)
    change = Change(principal)
    _save(change, flag, after, action="toggle", note=body.note)
    change.emit("flag.toggled", {**_ref(after), "on": body.on}, tenant_id=PLATFORM_TENANT)
    change.commit()
    return after


def update_targeting(principal: Principal, key: str, body: TargetingIn) -> Flag:
    principal.require(Permission.FLAGS_MANAGE)
    flag = repo.require(key)
    _writable(flag)
    _check_targeting(body.targeting, flag.variations)
    after = _next(flag, principal, targeting=body.targeting)
    change = Change(principal)
    _save(change, flag, after, action="targeting", note=body.note)
    change.emit("flag.targeting_updated", _ref(after), tenant_id=PLATFORM_TENANT)
    change.commit()
    return after


def archive_flag(principal: Principal, key: str, body: ArchiveIn) -> Flag:
    principal.require(Permission.FLAGS_MANAGE)
    flag = repo.require(key)
    _writable(flag)
    after = _next(flag, principal, status=FlagStatus.ARCHIVED, on=False)
    change = Change(principal)
    _save(change, flag, after, action="archive", note=body.note)
    change.emit("flag.archived", _ref(after), tenant_id=PLATFORM_TENANT)
    change.commit()
    return after


def refresh_cache(principal: Principal) -> CacheRefreshed:
    principal.require(Permission.FLAGS_MANAGE)
    change = Change(principal)
    repo.bump_version(change.tx)
    version = repo.read_version() + 1
    change.emit("flag.cache_refreshed", {"version": version}, tenant_id=PLATFORM_TENANT)
    change.audit("flag.cache_refresh", event_type="flag_cache_refreshed", tenant_id=PLATFORM_TENANT)
    change.commit()
    return CacheRefreshed(version=repo.read_version())


# evaluation ------------------------------------------------------------------------------------


def _subject(principal: Principal, tenant: Any) -> engine.Subject:
    return engine.Subject(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        role=principal.role,
        plan=getattr(tenant, "plan", None),
        region=getattr(tenant, "region", None),
    )


def etag_of(results: list[engine.Result]) -> str:
    body = json.dumps(
        [[r.key, r.value, r.variant, r.reason] for r in results], separators=(",", ":"), default=str
    )
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def evaluate_all(principal: Principal) -> tuple[list[engine.Result], str]:
    """Every flag for the caller (their tenant, plan, region, role, user): the authentication read
    plus one BatchGetItem when warm; never fails because of a flag."""
    flagset, tenant = cache.current(principal.tenant_id)
    results = engine.evaluate_all(flagset.flags, _subject(principal, tenant))
    counters.count([(r.key, r.variant) for r in results])
    counters.flush_if_due()
    return results, etag_of(results)


def evaluate_one(principal: Principal, key: str) -> engine.Result | None:
    flagset, tenant = cache.current(principal.tenant_id)
    flag = flagset.by_key.get(key)
    if flag is None:
        return None
    result = engine.evaluate(flag, _subject(principal, tenant))
    counters.count([(result.key, result.variant)])
    counters.flush_if_due()
    return result


def as_evaluation(r: engine.Result) -> Evaluation:
    return Evaluation(key=r.key, value=r.value, variant=r.variant, reason=r.reason, error=r.error)


def as_ofrep(r: engine.Result) -> OfrepFlag:
    if r.reason == engine.ERROR:
        return OfrepFlag(
            key=r.key,
            value=r.value,
            reason=r.reason,
            variant=r.variant,
            errorCode="GENERAL",
            errorDetails=r.error,
        )
    return OfrepFlag(key=r.key, value=r.value, reason=r.reason, variant=r.variant)


def not_modified(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags or "*" in tags


# preview ---------------------------------------------------------------------------------------


def preview(principal: Principal, key: str, body: PreviewIn) -> PreviewOut:
    """Exact: every user of every tenant is evaluated with today's and the proposed targeting
    (both as if the flag were on). Reads every tenant and user: an operator's tool, not a hot path."""
    principal.require(Permission.FLAGS_READ)
    flag = repo.require(key)
    _check_targeting(body.targeting, flag.variations)
    raw = flag.model_dump(mode="json") | {"on": True, "status": "active"}
    today = engine.compile_flag(raw)
    proposed = engine.compile_flag(raw | {"targeting": body.targeting.model_dump(mode="json")})
    if not isinstance(today, engine.Compiled) or not isinstance(proposed, engine.Compiled):
        raise KeelError(ErrorCode.API_007, "The flag cannot be evaluated")
    from keel.tenants import repo as tenants
    from keel.users import repo as users

    counts = {"before": 0, "after": 0}
    tenants_before: set[str] = set()
    tenants_after: set[str] = set()
    flips: list[Flip] = []
    flip_count = subjects = 0
    cursor: str | None = None
    while True:
        page, cursor = tenants.page(200, cursor)
        for tenant in page:
            for user in users.for_tenant(tenant.tenant_id).every():
                if user.status == "deleted":
                    continue
                subjects += 1
                s = engine.Subject(tenant.tenant_id, user.user_id, user.role, tenant.plan, tenant.region)
                before, why_before = today.targeted(s)
                after, why_after = proposed.targeted(s)
                if why_before in (engine.TARGETING_MATCH, engine.SPLIT):
                    counts["before"] += 1
                    tenants_before.add(tenant.tenant_id)
                if why_after in (engine.TARGETING_MATCH, engine.SPLIT):
                    counts["after"] += 1
                    tenants_after.add(tenant.tenant_id)
                if before != after:
                    flip_count += 1
                    if len(flips) < MAX_FLIPS:
                        flips.append(
                            Flip(tenant_id=tenant.tenant_id, user_id=user.user_id, before=before, after=after)
                        )
        if not cursor:
            break
    return PreviewOut(
        scope=flag.scope,
        subjects=subjects,
        reached_before=Reach(tenants=len(tenants_before), users=counts["before"]),
        reached_after=Reach(tenants=len(tenants_after), users=counts["after"]),
        flips=flips,
        flip_count=flip_count,
        truncated=flip_count > len(flips),
    )


# metrics ---------------------------------------------------------------------------------------


def metrics(principal: Principal, key: str, start: str | None, end: str | None) -> MetricsOut:
    principal.require(Permission.FLAGS_READ)
    repo.require(key)
    hi = clock.parse(end) if end else clock.now()
    lo = clock.parse(start) if start else hi - timedelta(hours=24)
    if lo > hi:
        raise invalid("start", "start is after end")
    if hi - lo > timedelta(days=31):
        raise invalid("start", "At most 31 days at a time")
    prefix = repo.metric_attr_prefix(key)
    totals: dict[str, int] = {}
    minutes = []
    for item in repo.metric_minutes(counters.minute_of(clock.iso(lo)), counters.minute_of(clock.iso(hi))):
        counts = {k[len(prefix) :]: int(v) for k, v in item.items() if k.startswith(prefix)}
        if counts:
            minutes.append({"minute": item["SK"], "counts": counts})
            for variant, n in counts.items():
                totals[variant] = totals.get(variant, 0) + n
    return MetricsOut(
        key=key,
        start=clock.iso(lo),
        end=clock.iso(hi),
        total=sum(totals.values()),
        variations=totals,
        minutes=minutes,
    )


# scheduled changes -----------------------------------------------------------------------------


def _changed(
    flag: Flag,
    action: ChangeAction,
    on: bool | None,
    targeting: Targeting | None,
    percentage: float | None,
    rule: int | None,
) -> dict[str, Any]:
    """The fields a scheduled change sets (validated against the flag as it is now)."""
    if action is ChangeAction.TOGGLE:
        if on is None:
            raise invalid("on", "A toggle needs `on`")
        return {"on": on}
    if action is ChangeAction.TARGETING:
        if targeting is None:
            raise invalid("targeting", "A targeting change needs `targeting`")
        _check_targeting(targeting, flag.variations)
        return {"targeting": targeting}
    if percentage is None:
        raise invalid("percentage", "A rollout change needs `percentage`")
    current = flag.targeting.model_copy(deep=True)
    if rule is None:
        variation = current.rollout.variation if current.rollout else "on"
        if variation not in flag.variations:
            raise invalid("percentage", "The flag has no rollout and no `on` variation")
        current.rollout = Rollout(percentage=percentage, variation=variation)
    else:
        if rule >= len(current.rules):
            raise invalid("rule", f"The flag has no rule {rule}")
        current.rules[rule].percentage = percentage
    _check_targeting(current, flag.variations)
    return {"targeting": current}


def schedule_change(principal: Principal, key: str, body: ScheduleIn) -> ScheduledChange:
    principal.require(Permission.FLAGS_MANAGE)
    flag = repo.require(key)
    _writable(flag)
    run_at = body.run_at if body.run_at.tzinfo else body.run_at.replace(tzinfo=clock.now().tzinfo)
    if run_at <= clock.now():
        raise invalid("run_at", "run_at must be in the future")
    if run_at - clock.now() > MAX_SCHEDULE_AHEAD:
        raise invalid("run_at", "At most a year ahead")
    _changed(flag, body.action, body.on, body.targeting, body.percentage, body.rule)
    scheduled = ScheduledChange(
        change_id=ids.new_id("fch"),
        flag_key=key,
        run_at=clock.iso(run_at),
        action=body.action,
        note=body.note,
        on=body.on,
        targeting=body.targeting,
        percentage=body.percentage,
        rule=body.rule,
        status="pending",
        created_at=clock.iso(),
        created_by=principal.actor,
    )
    change = Change(principal)
    repo.add_schedule(change.tx, scheduled)
    payload = {"flag_key": key, "change_id": scheduled.change_id, "action": body.action.value}
    change.emit("flag.change_scheduled", payload, tenant_id=PLATFORM_TENANT)
    change.audit(
        "flag.schedule",
        event_type="flag_change_scheduled",
        tenant_id=PLATFORM_TENANT,
        target_type="flag",
        target_id=key,
        details={"change_id": scheduled.change_id, "run_at": scheduled.run_at, "note": body.note},
    )
    change.commit()
    return scheduled


def list_schedules(principal: Principal, key: str) -> Page[ScheduledChange]:
    principal.require(Permission.FLAGS_READ)
    repo.require(key)
    return Page[ScheduledChange](items=sorted(repo.schedules(key), key=lambda c: (c.run_at, c.change_id)))


def cancel_schedule(principal: Principal, key: str, change_id: str) -> ScheduledChange:
    principal.require(Permission.FLAGS_MANAGE)
    repo.require(key)
    scheduled = repo.get_schedule(key, change_id)
    change = Change(principal)
    repo.close_schedule(change.tx, scheduled, "cancelled")
    payload = {"flag_key": key, "change_id": change_id, "action": scheduled.action.value}
    change.emit("flag.change_cancelled", payload, tenant_id=PLATFORM_TENANT)
    change.audit(
        "flag.schedule_cancel",
        event_type="flag_change_cancelled",
        tenant_id=PLATFORM_TENANT,
        target_type="flag",
        target_id=key,
        details={"change_id": change_id},
    )
    change.commit()
    return scheduled.model_copy(update={"status": "cancelled"})


def apply_due_changes() -> dict[str, int]:
    """Apply every pending change whose time has come, each exactly once (see `apply_change`)."""
    done = {"applied": 0, "failed": 0, "skipped": 0}
    for scheduled in repo.due(clock.iso()):
        done[apply_change(scheduled)] += 1
    return done


def apply_change(scheduled: ScheduledChange) -> str:
    """applied, failed or skipped. The claim of the scheduled item (pending -> applied) is in the
    same transaction as the flag's change, so a run that read the change as pending after another
    run applied it (or while it does) fails the claim and writes nothing."""
    principal = Principal.system(job="flag-schedule")
    try:
        flag = repo.require(scheduled.flag_key)
        _writable(flag)
        fields = _changed(
            flag, scheduled.action, scheduled.on, scheduled.targeting, scheduled.percentage, scheduled.rule
        )
        after = _next(flag, principal, **fields)
        change = Change(principal)
        repo.close_schedule(change.tx, scheduled, "applied")  # first: a lost race reads SAAS_022
        toggle = scheduled.action is ChangeAction.TOGGLE
        note = f"scheduled ({scheduled.change_id}): {scheduled.note}"
        _save(change, flag, after, action=scheduled.action.value, note=note)
        if toggle:
            change.emit("flag.toggled", {**_ref(after), "on": after.on}, tenant_id=PLATFORM_TENANT)
        else:
            change.emit("flag.targeting_updated", _ref(after), tenant_id=PLATFORM_TENANT)
        ref = {"flag_key": flag.key, "change_id": scheduled.change_id, "action": scheduled.action.value}
        change.emit("flag.change_applied", ref, tenant_id=PLATFORM_TENANT)
        change.commit()
        return "applied"
    except KeelError as exc:
        if exc.code in (ErrorCode.SAAS_022, ErrorCode.SAAS_011):
            return "skipped"  # applied by another run, or the flag changed meanwhile: next minute
        failed = Change(principal)
        repo.close_schedule(failed.tx, scheduled, "failed", exc.message)
        try:
            failed.commit()
        except KeelError:
            return "skipped"
        return "failed"
