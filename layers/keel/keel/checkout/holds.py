"""Holds: seats taken for an open checkout, with one conditional write, and given back once.

A hold is one transaction: the tier counter moves (`remaining - q`, `held + q`) only if
`remaining >= q`, with the hold item, its ledger entry and its audit record. It ends exactly once
(its status is the condition): as a sale (`stripe_events`), or released when its time is up (the
schedule; the expiry is checked in the condition, as TTL is lazy) or when Stripe says the session
expired, or at once when Stripe would not open the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from keel.checkout import repo, stripe_checkout
from keel.checkout.models import CheckoutOut, CheckoutRequest
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.core.principal import Principal, RequestMeta
from keel.store.change import Change

HOLD_SECONDS = 31 * 60  # Stripe sessions last at least 30 minutes; the hold outlives the session
ATTEMPTS = 5
T = TypeVar("T")


def buyer(tenant_id: str, meta: RequestMeta | None = None) -> Principal:
    """An anonymous buyer (or the system acting on a hold): what audit records name as the actor."""
    return Principal.system(tenant_id, job="checkout").with_meta(meta or RequestMeta())


def retried(work: Callable[[], T]) -> T:
    """Runs `work` again when DynamoDB cancelled its transaction for a concurrent one (SAAS_011)."""
    for attempt in range(ATTEMPTS):
        try:
            return work()
        except KeelError as exc:
            if exc.code is not ErrorCode.SAAS_011 or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (2**attempt))
    raise AssertionError("unreachable")


def sold_out(tier: str, remaining: int) -> KeelError:
    message = f"{tier} is sold out" if remaining <= 0 else f"Only {remaining} {tier} seat(s) left"
    return KeelError(ErrorCode.SAAS_061, message, details=[{"field": "quantity", "message": message}])


def create_checkout(tenant_id: str, body: CheckoutRequest, meta: RequestMeta | None = None) -> CheckoutOut:
    checkout = repo.for_tenant(tenant_id)
    event, counters = checkout.event_with_counters(body.city_id)
    if not event.get("on_sale", True):
        raise KeelError(ErrorCode.SAAS_063)
    tier = body.ticket_type
    counter = counters[tier]
    if int(counter["remaining"]) < body.quantity:  # cheap refusal, no write; the condition decides
        raise sold_out(tier, int(counter["remaining"]))
    unit = int(counter["member_price"] if body.is_member else counter["price"])
    hold_id = ids.new_id("hold")
    until = clock.now() + timedelta(seconds=HOLD_SECONDS)
    hold = {
        "hold_id": hold_id,
        "city_id": body.city_id,
        "tier": tier,
        "quantity": body.quantity,
        "is_member": body.is_member,
        "unit_amount": unit,
        "currency": event["currency"],
        **body.customer.model_dump(exclude_none=True),
        "created_at": clock.iso(),
        "hold_until": clock.iso(until),
        "hold_until_epoch": int(until.timestamp()),
    }

    def take() -> None:
        change = Change(buyer(tenant_id, meta))
        checkout.move_counters(
            change.tx,
            body.city_id,
            tier,
            {"held": body.quantity, "remaining": -body.quantity},
            condition="#remaining >= :q",
            values={":q": body.quantity},
            on_fail=sold_out(tier, 0),
        )
        checkout.add_hold(change.tx, hold)
        checkout.add_ledger(
            change.tx,
            body.city_id,
            tier,
            "hold",
            body.quantity,
            {"held": body.quantity, "remaining": -body.quantity},
            hold_id=hold_id,
        )
        change.audit(
            "checkout.hold",
            event_type="seats_held",
            tenant_id=tenant_id,
            target_type="hold",
            target_id=hold_id,
            details={"city_id": body.city_id, "tier": tier, "quantity": body.quantity},
        )
        change.commit()

    retried(take)
    metadata = {
        "tenant_id": tenant_id,
        "city_id": body.city_id,
        "tier": tier,
        "quantity": str(body.quantity),
        "hold_id": hold_id,
        "is_member": "true" if body.is_member else "false",
    }
    try:
        session = stripe_checkout.create_session(
            hold_id=hold_id,
            metadata=metadata,
            product=f"{event['name']} ({tier})",
            unit_amount=unit,
            quantity=body.quantity,
            currency=event["currency"],
            customer_email=body.customer.email,
            expires_at=hold["hold_until_epoch"],
        )
    except KeelError:
        release(tenant_id, hold_id, reason="checkout_failed")  # the seats come back at once
        raise
    checkout.attach_session(hold_id, session.id, session.url)
    return CheckoutOut(
        hold_id=hold_id,
        session_id=session.id,
        url=session.url,
        expires_at=hold["hold_until"],
        amount_total=session.amount_total or unit * body.quantity,
        currency=event["currency"],
    )


def release(tenant_id: str, hold_id: str, *, reason: str, only_if_due: bool = False) -> bool:
    """Gives a hold's seats back, once; False if it had already ended (or, `only_if_due`, is not due)."""
    checkout = repo.for_tenant(tenant_id)

    def attempt() -> bool:
        hold = checkout.hold(hold_id)
        if hold is None or hold["status"] != repo.OPEN_HOLD:
            return False
        if only_if_due and int(hold["hold_until_epoch"]) > clock.epoch():
            return False
        q, city_id, tier = int(hold["quantity"]), hold["city_id"], hold["tier"]
        change = Change(buyer(tenant_id))
        closed = KeelError(ErrorCode.SAAS_011, "Hold already closed")
        checkout.close_hold(
            change.tx,
            hold_id,
            from_status=repo.OPEN_HOLD,
            to_status="released",
            on_fail=closed,
            due_by_epoch=clock.epoch() if only_if_due else None,
            fields={"release_reason": reason},
        )
        checkout.move_counters(change.tx, city_id, tier, {"held": -q, "remaining": q})
        checkout.add_ledger(
            change.tx,
            city_id,
            tier,
            "release",
            q,
            {"held": -q, "remaining": q},
            hold_id=hold_id,
            reason=reason,
        )
        change.audit(
            "checkout.release",
            event_type="seats_released",
            tenant_id=tenant_id,
            target_type="hold",
            target_id=hold_id,
            details={"city_id": city_id, "tier": tier, "quantity": q, "reason": reason},
        )
        change.commit()
        return True

    return retried(attempt)  # a lost race re-reads the hold, sees it closed and answers False


def release_due(limit: int = 1000) -> dict[str, int]:
    """The schedule: every open hold whose time is up, released once (a run may overlap another)."""
    released = skipped = 0
    for tenant_id, hold_id in repo.due_holds(clock.iso(), limit):
        try:
            if release(tenant_id, hold_id, reason="expired", only_if_due=True):
                released += 1
            else:
                skipped += 1
        except KeelError as exc:
            logger.warning("hold release failed", extra={"hold_id": hold_id, "code": exc.code.name})
            skipped += 1
    return {"released": released, "skipped": skipped}


def hold_of(tenant_id: str, hold_id: str) -> dict[str, Any] | None:
    return repo.for_tenant(tenant_id).hold(hold_id)
