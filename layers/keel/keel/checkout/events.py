"""Workshop events: a city's GA and VIP tiers, and what buyers may see of them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from keel.checkout import repo
from keel.checkout.models import (
    TIERS,
    EventCreate,
    EventOut,
    EventUpdate,
    PublicInventory,
    PublicTier,
    TierOut,
)
from keel.core import clock
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store.change import Change

TIER_FIELDS = (
    "public_limit",
    "actual_limit",
    "price",
    "member_price",
    "held",
    "sold",
    "remaining",
    "oversold",
)


def event_out(event: dict[str, Any], counters: dict[str, dict[str, Any]]) -> EventOut:
    tiers = {
        t: TierOut.model_validate({k: counters[t].get(k, 0) for k in TIER_FIELDS})
        for t in TIERS
        if t in counters
    }
    return EventOut.model_validate({**event, "tiers": tiers})


def create_event(principal: Principal, tenant_id: str | None, body: EventCreate) -> EventOut:
    principal.require(Permission.EVENTS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    now = clock.iso()
    event = {
        **body.model_dump(exclude={"tiers"}),
        "on_sale": True,
        "created_at": now,
        "updated_at": now,
        "created_by": principal.actor,
    }
    counters: dict[str, dict[str, Any]] = {
        tier: {**spec.model_dump(), "held": 0, "sold": 0, "remaining": spec.actual_limit, "oversold": 0}
        for tier, spec in body.tiers.items()
    }
    change = Change(principal)
    checkout = repo.for_tenant(scoped)
    checkout.add_event(change.tx, event, counters)
    for tier, spec in body.tiers.items():
        deltas = {"actual_limit": spec.actual_limit, "remaining": spec.actual_limit}
        checkout.add_ledger(
            change.tx, body.city_id, tier, "open", spec.actual_limit, deltas, actor=principal.actor
        )
    change.emit("checkout.event_created", {"city_id": body.city_id}, tenant_id=scoped)
    change.audit(
        "checkout.event_create",
        event_type="event_created",
        tenant_id=scoped,
        target_type="event",
        target_id=body.city_id,
        details={
            t: {"public_limit": s.public_limit, "actual_limit": s.actual_limit} for t, s in body.tiers.items()
        },
    )
    change.commit()
    return event_out(event, counters)


def update_event(principal: Principal, tenant_id: str | None, city_id: str, body: EventUpdate) -> EventOut:
    principal.require(Permission.EVENTS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    checkout = repo.for_tenant(scoped)
    event, counters = checkout.event_with_counters(city_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"tiers"}, mode="json")
    tier_changes = {
        t: u.model_dump(exclude_unset=True, exclude_none=True) for t, u in (body.tiers or {}).items()
    }
    tier_changes = {t: c for t, c in tier_changes.items() if c}
    if not changes and not tier_changes:
        return event_out(event, counters)
    changes["updated_at"] = clock.iso()
    change = Change(principal)
    checkout.update_event(change.tx, city_id, changes)
    for tier, fields in tier_changes.items():
        checkout.update_tier_display(change.tx, city_id, tier, fields)
        counters[tier] = {**counters[tier], **fields}
    change.emit("checkout.event_updated", {"city_id": city_id}, tenant_id=scoped)
    change.audit(
        "checkout.event_update",
        event_type="event_updated",
        tenant_id=scoped,
        target_type="event",
        target_id=city_id,
        details={"changed": sorted(set(changes) - {"updated_at"}), "tiers": tier_changes},
    )
    change.commit()
    return event_out({**event, **changes}, counters)


def list_events(
    principal: Principal, tenant_id: str | None, limit: int, cursor: str | None
) -> Page[EventOut]:
    principal.require(Permission.EVENTS_READ)
    scoped = principal.tenant_scope(tenant_id)
    checkout = repo.for_tenant(scoped)
    page = checkout.events(limit, cursor)
    items = []
    for item in page.items:
        event, counters = checkout.event_with_counters(item["city_id"])
        items.append(event_out(event, counters))
    return Page[EventOut](items=items, next_cursor=page.next_cursor)


def public_inventory(tenant_id: str, city_id: str) -> PublicInventory:
    """What a buyer sees: public limits and what is left of them; never actual limits or buyers."""
    event, counters = repo.for_tenant(tenant_id).event_with_counters(city_id)
    tiers = {}
    for tier in TIERS:
        c = counters.get(tier)
        if c is None:
            continue
        taken = int(c.get("held", 0)) + int(c.get("sold", 0))
        remaining = int(c.get("remaining", 0))
        available = max(0, min(remaining, int(c["public_limit"]) - taken))
        tiers[tier] = PublicTier(
            public_limit=int(c["public_limit"]),
            available=available,
            sold_out=remaining <= 0 or not event.get("on_sale", True),
            price=int(c["price"]),
            member_price=int(c["member_price"]),
        )
    return PublicInventory.model_validate({**event, "tiers": tiers})


def etag(body: PublicInventory) -> str:
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
