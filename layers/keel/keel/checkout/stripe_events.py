"""Stripe Checkout events, applied to holds: plain domain functions the payments area's gateway
handler registry calls with the event id and the Checkout Session (`data.object`) as Stripe sent it.

Each is safe to call twice, and concurrently: a hold ends once (its status is the condition) and
its registration id is derived from the hold id (written only if absent), so a hold becomes exactly
one registration however often, and however concurrently, the event arrives.
"""

from __future__ import annotations

from typing import Any

from keel.checkout import repo
from keel.checkout.holds import buyer, release, retried
from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.store.change import Change

HANDLED = ("checkout.session.completed", "checkout.session.expired")


def registration_id_for(hold_id: str) -> str:
    return "reg_" + hold_id.split("_", 1)[1]


def _hold_ref(session: dict[str, Any]) -> tuple[str, str] | None:
    metadata = session.get("metadata") or {}
    tenant_id, hold_id = (
        metadata.get("tenant_id"),
        metadata.get("hold_id") or session.get("client_reference_id"),
    )
    if not tenant_id or not hold_id:
        return None
    return str(tenant_id), str(hold_id)


def session_expired(event_id: str, session: dict[str, Any]) -> None:
    """checkout.session.expired: the hold's seats come back now (once), whatever the clock says."""
    ref = _hold_ref(session)
    if ref is None:
        logger.info("expired session names no hold", extra={"stripe_event_id": event_id})
        return
    released = release(*ref, reason="session_expired")
    logger.info(
        "session expired", extra={"stripe_event_id": event_id, "hold_id": ref[1], "released": released}
    )


def session_completed(event_id: str, session: dict[str, Any]) -> str | None:
    """checkout.session.completed, paid: the hold becomes one registration (its id is returned).

    A hold still open is sold from its held seats. A hold already released (expired) is sold from
    what remains if seats remain; otherwise the registration is recorded as oversold (counted past
    the limit, listed, and the staff alerted), never dropped.
    """
    if session.get("payment_status") != "paid":
        logger.info("checkout completed without payment yet", extra={"stripe_event_id": event_id})
        return None
    ref = _hold_ref(session)
    if ref is None:
        raise KeelError(ErrorCode.API_007, "Checkout session carries no hold (metadata.hold_id, tenant_id)")
    tenant_id, hold_id = ref
    checkout = repo.for_tenant(tenant_id)
    registration_id = registration_id_for(hold_id)

    def attempt() -> str | None:
        hold = checkout.hold(hold_id)
        if hold is None:
            raise KeelError(ErrorCode.API_007, f"Unknown hold {hold_id}")
        if hold["status"] == "completed":
            return registration_id  # applied before: nothing more
        if hold["status"] == repo.OPEN_HOLD:
            _sell(
                event_id,
                tenant_id,
                hold,
                session,
                "sale",
                {"held": -int(hold["quantity"]), "sold": int(hold["quantity"])},
            )
            return registration_id
        q = int(hold["quantity"])
        try:  # released (expired) before the payment came: sell from what remains, if anything does
            _sell(
                event_id,
                tenant_id,
                hold,
                session,
                "late_sale",
                {"sold": q, "remaining": -q},
                need_remaining=q,
            )
        except KeelError as exc:
            if exc is not _NO_SEATS:
                raise
            _sell(event_id, tenant_id, hold, session, "oversell", {"sold": q, "remaining": -q}, oversold=q)
        return registration_id

    return retried(attempt)


_NO_SEATS = KeelError(ErrorCode.SAAS_061, "No seats remain for a late payment")


def _sell(
    event_id: str,
    tenant_id: str,
    hold: dict[str, Any],
    session: dict[str, Any],
    op: str,
    deltas: dict[str, int],
    *,
    need_remaining: int | None = None,
    oversold: int = 0,
) -> None:
    checkout = repo.for_tenant(tenant_id)
    hold_id, city_id, tier, q = hold["hold_id"], hold["city_id"], hold["tier"], int(hold["quantity"])
    registration_id = registration_id_for(hold_id)
    change = Change(buyer(tenant_id))
    checkout.close_hold(
        change.tx,
        hold_id,
        from_status=hold["status"],
        to_status="completed",
        on_fail=KeelError(ErrorCode.SAAS_011, "Hold changed meanwhile"),  # re-read and decide again
        fields={"registration_id": registration_id},
    )
    checkout.move_counters(
        change.tx,
        city_id,
        tier,
        deltas,
        condition="#remaining >= :q" if need_remaining else None,
        values={":q": need_remaining} if need_remaining else None,
        on_fail=_NO_SEATS if need_remaining else None,
        extra={"oversold": oversold} if oversold else None,
    )
    status = "oversold" if oversold else "paid"
    checkout.add_registration(
        change.tx,
        {
            "registration_id": registration_id,
            "city_id": city_id,
            "tier": tier,
            "quantity": q,
            "is_member": bool(hold.get("is_member")),
            "amount_total": session.get("amount_total"),
            "currency": session.get("currency") or hold.get("currency"),
            "status": status,
            **{
                k: hold[k]
                for k in ("first_name", "last_name", "email", "business_type", "phone")
                if k in hold
            },
            "hold_id": hold_id,
            "session_id": session.get("id"),
            "stripe_event_id": event_id,
            "created_at": clock.iso(),
        },
        on_fail=KeelError(ErrorCode.SAAS_011, "Registration written meanwhile"),
    )
    ledger_deltas = {**deltas}
    checkout.add_ledger(
        change.tx, city_id, tier, op, q, ledger_deltas, hold_id=hold_id, registration_id=registration_id
    )
    payload = {"city_id": city_id, "registration_id": registration_id, "tier": tier, "quantity": q}
    if oversold:
        change.emit("checkout.oversold", payload, tenant_id=tenant_id)
    else:
        change.emit("checkout.sold", payload, tenant_id=tenant_id)
    change.audit(
        f"checkout.{op}",
        event_type="registration_oversold" if oversold else "registration_paid",
        tenant_id=tenant_id,
        target_type="registration",
        target_id=registration_id,
        severity="critical" if oversold else "info",
        details={"city_id": city_id, "tier": tier, "quantity": q, "stripe_event_id": event_id},
    )
    change.commit()
