"""The inventory ledger: every counter change is an entry written in the same transaction.

The audit adds up a city's entries per tier and compares them with the counters; a correction
sets counters to audited values and writes the entry that makes the ledger add up to them again
(so the ledger keeps the whole story: what was wrong, who fixed it, why).
"""

from __future__ import annotations

from keel.checkout import repo
from keel.checkout.models import (
    TIERS,
    CorrectRequest,
    ExpandRequest,
    InventoryAudit,
    LedgerEntry,
    TierAudit,
    TierOut,
)
from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store.change import Change


def list_transactions(
    principal: Principal,
    tenant_id: str | None,
    city_id: str,
    tier: str | None,
    limit: int,
    cursor: str | None,
) -> Page[LedgerEntry]:
    principal.require(Permission.EVENTS_READ)
    checkout = repo.for_tenant(principal.tenant_scope(tenant_id))
    checkout.event_with_counters(city_id)  # 404 for an unknown city (or another tenant's)
    page = checkout.ledger(city_id, limit, cursor)
    items = [LedgerEntry.model_validate(i) for i in page.items if tier is None or i["tier"] == tier]
    return Page[LedgerEntry](items=items, next_cursor=page.next_cursor)


def _sums(checkout: repo.CheckoutRepo, city_id: str) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = {t: dict.fromkeys(repo.COUNTERS, 0) for t in TIERS}
    for entry in checkout.whole_ledger(city_id):
        for attr, delta in (entry.get("deltas") or {}).items():
            if attr in repo.COUNTERS:
                sums.setdefault(entry["tier"], dict.fromkeys(repo.COUNTERS, 0))[attr] += int(delta)
    return sums


def audit(principal: Principal, tenant_id: str | None, city_id: str) -> InventoryAudit:
    principal.require(Permission.EVENTS_READ)
    checkout = repo.for_tenant(principal.tenant_scope(tenant_id))
    _, counters = checkout.event_with_counters(city_id)
    sums = _sums(checkout, city_id)
    tiers = []
    for tier in TIERS:
        actual = {k: int(counters[tier].get(k, 0)) for k in repo.COUNTERS}
        mismatch = {k: actual[k] - sums[tier][k] for k in repo.COUNTERS if actual[k] != sums[tier][k]}
        if actual["remaining"] != actual["actual_limit"] - actual["held"] - actual["sold"]:
            mismatch.setdefault("remaining", actual["remaining"] - sums[tier]["remaining"])
        tiers.append(
            TierAudit(tier=tier, counters=actual, ledger=sums[tier], mismatch=mismatch, ok=not mismatch)
        )
    return InventoryAudit(city_id=city_id, at=clock.iso(), ok=all(t.ok for t in tiers), tiers=tiers)


def _tier_out(counter: dict[str, int]) -> TierOut:
    fields = (
        "public_limit",
        "actual_limit",
        "price",
        "member_price",
        "held",
        "sold",
        "remaining",
        "oversold",
    )
    return TierOut.model_validate({k: counter.get(k, 0) for k in fields})


def expand(principal: Principal, tenant_id: str | None, city_id: str, body: ExpandRequest) -> TierOut:
    principal.require(Permission.INVENTORY_ADJUST)
    scoped = principal.tenant_scope(tenant_id)
    checkout = repo.for_tenant(scoped)
    checkout.event_with_counters(city_id)
    n = body.additional_spots
    deltas = {"actual_limit": n, "remaining": n}
    change = Change(principal)
    checkout.move_counters(
        change.tx, city_id, body.tier, deltas, extra={"public_limit": n} if body.expand_public_limit else None
    )
    ledger_id = checkout.add_ledger(
        change.tx, city_id, body.tier, "expand", n, deltas, actor=principal.actor, reason=body.reason
    )
    change.emit(
        "checkout.inventory_expanded",
        {"city_id": city_id, "tier": body.tier, "ledger_id": ledger_id},
        tenant_id=scoped,
    )
    change.audit(
        "checkout.inventory_expand",
        event_type="inventory_expanded",
        tenant_id=scoped,
        target_type="event",
        target_id=city_id,
        severity="warning",
        details={"tier": body.tier, "additional_spots": n, "reason": body.reason},
    )
    change.commit()
    _, counters = checkout.event_with_counters(city_id)
    return _tier_out(counters[body.tier])


def correct(principal: Principal, tenant_id: str | None, city_id: str, body: CorrectRequest) -> TierOut:
    principal.require(Permission.INVENTORY_ADJUST)
    scoped = principal.tenant_scope(tenant_id)
    checkout = repo.for_tenant(scoped)
    _, counters = checkout.event_with_counters(city_id)
    current = counters[body.tier]
    target = body.counts.model_dump()
    target["remaining"] = target["actual_limit"] - target["held"] - target["sold"]
    ledger = _sums(checkout, city_id)[body.tier]
    deltas = {k: target[k] - ledger[k] for k in repo.COUNTERS}
    change = Change(principal)
    checkout.set_counters(
        change.tx,
        city_id,
        body.tier,
        target,
        version=int(current.get("version", 0)),
        on_fail=KeelError(ErrorCode.SAAS_011, "The counters changed meanwhile; audit again and retry"),
    )
    ledger_id = checkout.add_ledger(
        change.tx,
        city_id,
        body.tier,
        "correct",
        0,
        deltas,
        actor=principal.actor,
        reason=body.reason,
        counters_before={k: int(current.get(k, 0)) for k in repo.COUNTERS},
    )
    change.emit(
        "checkout.inventory_corrected",
        {"city_id": city_id, "tier": body.tier, "ledger_id": ledger_id},
        tenant_id=scoped,
    )
    change.audit(
        "checkout.inventory_correct",
        event_type="inventory_corrected",
        tenant_id=scoped,
        target_type="event",
        target_id=city_id,
        severity="warning",
        details={
            "tier": body.tier,
            "before": {k: int(current.get(k, 0)) for k in repo.COUNTERS},
            "after": target,
            "reason": body.reason,
        },
    )
    change.commit()
    return _tier_out({**current, **target})
