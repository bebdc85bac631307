"""A tenant's subscription to a plan: change plan, cancel, renew; kept in step with its gateway.

A plan change writes the subscription, the tenant's `plan` and `limits.max_users` (what
`create_user`'s seat condition reads) in one transaction; a downgrade below the tenant's
current number of users fails that transaction's condition (SAAS_054), so a user added at the
same moment cannot slip past it.

A Stripe-managed subscription changes plan at Stripe first (reconciliation takes the gateway as
the truth, so a change of ours alone would be undone): the plan's `gateway_prices.stripe` is
required (else 409 SAAS_011, nothing written), the seat check runs before Stripe is asked, the
item is switched under an idempotency key derived from the change (subscription, its version, the
target plan), and only then is our transaction written. Should that transaction still fail (a
user added in between), Stripe has moved and the next reconciliation brings ours along.
Nomba and manual subscriptions are ours alone: their plan changes stay local.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, invalid
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.payments import gateways, repo
from keel.payments.ledger import billing_event
from keel.payments.models import CancelIn, PlanChange, Subscription, SubscriptionStatus
from keel.plans import repo as plans
from keel.plans.models import Interval, Plan
from keel.store.change import Change
from keel.tenants import repo as tenants

STATUS_RANK = {
    SubscriptionStatus.INCOMPLETE: 1,
    SubscriptionStatus.TRIALING: 2,
    SubscriptionStatus.ACTIVE: 3,
    SubscriptionStatus.PAST_DUE: 4,
    SubscriptionStatus.UNPAID: 5,
    SubscriptionStatus.CANCELED: 6,
}


def _ref(sub: Subscription) -> dict[str, Any]:
    return {
        "tenant_id": sub.tenant_id,
        "subscription_id": sub.subscription_id,
        "plan_id": sub.plan_id,
        "status": sub.status.value,
    }


def iso_of(epoch: Any) -> str | None:
    return clock.iso(datetime.fromtimestamp(int(epoch), UTC)) if epoch else None


def list_subscriptions(
    principal: Principal, tenant_id: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[Subscription]:
    principal.require(Permission.BILLING_READ)
    if principal.is_platform_staff and tenant_id is None:
        items, next_cursor = repo.subscriptions_page(status, limit, cursor)
        return Page[Subscription](items=items, next_cursor=next_cursor)
    found = repo.for_tenant(principal.tenant_scope(tenant_id)).subscriptions()
    return Page[Subscription](items=[s for s in found if status is None or s.status == status])


def get_subscription(principal: Principal, tenant_id: str | None, subscription_id: str) -> Subscription:
    principal.require(Permission.BILLING_READ)
    return repo.for_tenant(principal.tenant_scope(tenant_id)).get_subscription(subscription_id)


def _write(change: Change, sub: Subscription, previous_version: int | None, *, bump: int = 1) -> None:
    version = (previous_version or 0) + bump
    repo.for_tenant(sub.tenant_id).put_subscription(change.tx, sub, version, previous_version)


def change_plan(
    principal: Principal, tenant_id: str | None, subscription_id: str, body: PlanChange
) -> Subscription:
    """Moves a subscription to another plan. A Stripe-managed one moves at Stripe first (its item
    switched to the plan's Stripe price, under an idempotency key of this change: a retry never
    switches twice), then ours; a Stripe refusal (SAAS_053) leaves ours untouched."""
    principal.require(Permission.BILLING_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    billing = repo.for_tenant(scoped)
    sub = billing.get_subscription(subscription_id)
    plan = plans.get(body.plan_id)
    if plan is None or not plan.active:
        raise invalid("plan_id", f"Unknown or inactive plan {body.plan_id!r}")
    if sub.status is SubscriptionStatus.CANCELED:
        raise KeelError(ErrorCode.SAAS_011, "The subscription is cancelled; renew it first")
    if plan.plan_id == sub.plan_id:
        return sub
    version = billing.subscription_version(subscription_id)
    stripe_price = None
    if sub.gateway == "stripe" and sub.gateway_subscription_id:
        stripe_price = _stripe_price(plan)
        # before Stripe moves: our write would refuse it after
        tenants.for_tenant(scoped).refuse_below_usage(plan.plan_id, plan.limits.max_users)
        gateways.stripe_change_price(
            sub.gateway_subscription_id,
            stripe_price,
            proration_behavior=body.proration_behavior,
            idempotency_key=_key("plan", sub.subscription_id, str(version), plan.plan_id),
        )
    current = plans.get(sub.plan_id)
    direction = "upgrade" if current is None or plan.price >= current.price else "downgrade"
    updated = sub.model_copy(update={"plan_id": plan.plan_id, "updated_at": clock.iso()})
    change = Change(principal)
    _write(change, updated, version)
    tenants.for_tenant(scoped).set_plan(
        change.tx, plan.plan_id, plan.limits.max_users, refuse_below_usage=True
    )
    change.emit("subscription.updated", {**_ref(updated), "from_plan": sub.plan_id}, tenant_id=scoped)
    gateway_details = {"stripe_price": stripe_price} if stripe_price else {}
    billing.add_billing_event(
        change.tx,
        billing_event(
            scoped,
            f"subscription.{direction}",
            subscription_id,
            f"{direction}: {sub.plan_id} -> {plan.plan_id}",
            principal.actor,
            from_plan=sub.plan_id,
            to_plan=plan.plan_id,
            max_users=plan.limits.max_users,
            **gateway_details,
        ),
    )
    change.audit(
        "subscription.change_plan",
        event_type="billing",
        tenant_id=scoped,
        target_type="subscription",
        target_id=subscription_id,
        details={"from": sub.plan_id, "to": plan.plan_id, **gateway_details},
    )
    change.commit()
    return updated


def _stripe_price(plan: Plan) -> str:
    if not plan.gateway_prices.stripe:
        raise KeelError(
            ErrorCode.SAAS_011,
            f"Plan {plan.plan_id!r} has no Stripe price; set its gateway_prices.stripe (update_plan) "
            "before moving a Stripe subscription to it",
            details=[{"field": "plan_id", "message": f"plan {plan.plan_id!r} has no Stripe price"}],
        )
    return plan.gateway_prices.stripe


def _key(*parts: str) -> str:
    return "keel-" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


def cancel(principal: Principal, tenant_id: str | None, subscription_id: str, body: CancelIn) -> Subscription:
    principal.require(Permission.BILLING_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    billing = repo.for_tenant(scoped)
    sub = billing.get_subscription(subscription_id)
    if sub.status is SubscriptionStatus.CANCELED:
        return sub
    version = billing.subscription_version(subscription_id)
    now = clock.iso()
    if sub.gateway == "stripe" and sub.gateway_subscription_id:
        gateways.stripe_cancel(
            sub.gateway_subscription_id,
            at_period_end=body.at_period_end,
            idempotency_key=_key("cancel", sub.subscription_id, str(version), str(body.at_period_end)),
        )
    if body.at_period_end:
        updated = sub.model_copy(update={"cancel_at_period_end": True, "updated_at": now})
    else:
        updated = sub.model_copy(
            update={
                "status": SubscriptionStatus.CANCELED,
                "canceled_at": now,
                "cancel_at_period_end": False,
                "updated_at": now,
            }
        )
    change = Change(principal)
    _write(change, updated, version)
    change.emit("subscription.cancelled", _ref(updated), tenant_id=scoped)
    when = "at period end" if body.at_period_end else "now"
    billing.add_billing_event(
        change.tx,
        billing_event(
            scoped,
            "subscription.cancelled",
            subscription_id,
            f"cancelled {when}",
            principal.actor,
            reason=body.reason,
            at_period_end=body.at_period_end,
        ),
    )
    change.audit(
        "subscription.cancel",
        event_type="billing",
        tenant_id=scoped,
        target_type="subscription",
        target_id=subscription_id,
        details={"at_period_end": body.at_period_end},
    )
    change.commit()
    return updated


def _next_period(start: datetime, interval: Interval) -> datetime:
    return start + (timedelta(days=365) if interval is Interval.YEAR else timedelta(days=30))


def renew(principal: Principal, tenant_id: str | None, subscription_id: str) -> Subscription:
    """Undoes a cancellation at period end; a cancelled or lapsed subscription starts a new period."""
    principal.require(Permission.BILLING_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    billing = repo.for_tenant(scoped)
    sub = billing.get_subscription(subscription_id)
    version = billing.subscription_version(subscription_id)
    now = clock.now()
    if sub.status is not SubscriptionStatus.CANCELED and sub.cancel_at_period_end:
        if sub.gateway == "stripe" and sub.gateway_subscription_id:
            gateways.stripe_resume(
                sub.gateway_subscription_id, _key("renew", sub.subscription_id, str(version))
            )
        updated = sub.model_copy(update={"cancel_at_period_end": False, "updated_at": clock.iso(now)})
    elif sub.status is SubscriptionStatus.CANCELED and sub.gateway == "stripe":
        raise KeelError(
            ErrorCode.SAAS_011, "A cancelled Stripe subscription cannot be renewed; start a new one"
        )
    else:
        plan = plans.get(sub.plan_id)
        period_end = sub.current_period_end
        start = max(now, clock.parse(period_end)) if period_end else now
        updated = sub.model_copy(
            update={
                "status": SubscriptionStatus.ACTIVE,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "current_period_end": clock.iso(
                    _next_period(start, plan.interval if plan else Interval.MONTH)
                ),
                "updated_at": clock.iso(now),
            }
        )
    change = Change(principal)
    _write(change, updated, version)
    change.emit("subscription.renewed", _ref(updated), tenant_id=scoped)
    billing.add_billing_event(
        change.tx,
        billing_event(
            scoped,
            "subscription.renewed",
            subscription_id,
            "renewed",
            principal.actor,
            current_period_end=updated.current_period_end,
        ),
    )
    change.audit(
        "subscription.renew",
        event_type="billing",
        tenant_id=scoped,
        target_type="subscription",
        target_id=subscription_id,
    )
    change.commit()
    return updated


# ------------------------------------------------------------------ from the gateway (webhooks)


def apply_gateway_subscription(gateway: str, obj: dict[str, Any], created: int) -> str:
    """A gateway's subscription object (Stripe `customer.subscription.*`): create or update ours.

    Version: the status's rank, then the event's own time; an older event never wins.
    """
    gateway_id = str(obj.get("id") or "")
    metadata = obj.get("metadata") or {}
    found = repo.subscription_for_gateway(gateway, gateway_id)
    tenant_id = found[0] if found else str(metadata.get("tenant_id") or "")
    if not gateway_id or not tenant_id or tenants.for_tenant(tenant_id).get() is None:
        return "ignored: no tenant in metadata.tenant_id"
    status = SubscriptionStatus(str(obj.get("status") or "active"))
    version = created * 10 + STATUS_RANK[status]
    billing = repo.for_tenant(tenant_id)
    now = clock.iso()
    period_end = obj.get("current_period_end") or _first_item(obj).get("current_period_end")
    if found:
        stored = billing.get_subscription(found[1])
        stored_version = billing.subscription_version(found[1]) or 0
        if stored_version >= version:
            return "stale"
        updated = stored.model_copy(
            update={
                "status": status,
                "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
                "current_period_end": iso_of(period_end) or stored.current_period_end,
                "canceled_at": iso_of(obj.get("canceled_at")) or stored.canceled_at,
                "updated_at": now,
            }
        )
        change = Change(Principal.system(tenant_id=tenant_id, job="gateway-events"))
        billing.put_subscription(change.tx, updated, version, stored_version)
        if status is SubscriptionStatus.CANCELED or updated.cancel_at_period_end:
            change.emit("subscription.cancelled", _ref(updated), tenant_id=tenant_id)
        else:
            change.emit("subscription.renewed", _ref(updated), tenant_id=tenant_id)
        billing.add_billing_event(
            change.tx,
            billing_event(
                tenant_id,
                f"subscription.{status.value}",
                updated.subscription_id,
                f"{gateway}: subscription {status.value}",
                change.principal.actor,
                cancel_at_period_end=updated.cancel_at_period_end,
            ),
        )
        change.commit()
        return "applied"
    plan_id = price_plan_id(obj) or str(metadata.get("plan_id") or "starter")
    plan = plans.get(plan_id)
    if plan is None:
        return f"ignored: unknown plan {plan_id!r}"
    sub = Subscription(
        subscription_id=ids.new_id("sbs"),
        tenant_id=tenant_id,
        plan_id=plan_id,
        status=status,
        gateway=gateway,
        gateway_subscription_id=gateway_id,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        current_period_end=iso_of(period_end),
        created_at=now,
        updated_at=now,
    )
    change = Change(Principal.system(tenant_id=tenant_id, job="gateway-events"))
    billing.put_subscription(change.tx, sub, version, None)
    # the gateway already charges for this plan: its limit applies even below current usage
    tenants.for_tenant(tenant_id).set_plan(
        change.tx, plan_id, plan.limits.max_users, refuse_below_usage=False
    )
    change.emit("subscription.created", _ref(sub), tenant_id=tenant_id)
    billing.add_billing_event(
        change.tx,
        billing_event(
            tenant_id,
            "subscription.created",
            sub.subscription_id,
            f"{gateway}: subscribed to {plan_id}",
            change.principal.actor,
            gateway_subscription_id=gateway_id,
        ),
    )
    change.audit(
        "subscription.create",
        event_type="billing",
        tenant_id=tenant_id,
        target_type="subscription",
        target_id=sub.subscription_id,
        details={"plan_id": plan_id, "gateway": gateway},
    )
    change.commit()
    return "applied"


def _first_item(obj: dict[str, Any]) -> dict[str, Any]:
    items = ((obj.get("items") or {}).get("data")) or []
    return dict(items[0]) if items else {}


def price_plan_id(obj: dict[str, Any]) -> str | None:
    """The plan a Stripe subscription is charged for, as its price names it: the first item's
    price `lookup_key`, else the price's `metadata.plan_id` (the same on a legacy `plan` object);
    None when the price names no plan (the subscription's own `metadata.plan_id` is only what it
    was created with)."""
    item = _first_item(obj)
    for price in (item.get("price"), item.get("plan"), obj.get("plan")):
        if isinstance(price, dict):
            named = price.get("lookup_key") or (price.get("metadata") or {}).get("plan_id")
            if named:
                return str(named)
    return None
