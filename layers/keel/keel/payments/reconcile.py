"""Reconciliation: each gateway subscription compared with the gateway; drift fixed and reported.

Compared: status, cancel_at_period_end, current_period_end and the plan (the plan the Stripe
price names, `subscriptions.price_plan_id`). The gateway is the truth for what it charges; each
correction is a transaction with its billing event, domain event and audit. A plan correction
moves the tenant's `plan` and `limits.max_users` with the subscription, even below the users in
use (as a subscription created on the gateway does). A price naming a plan the catalogue does
not know is reported (`errors`) and left alone: there is no limit to apply.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.payments import gateways, repo
from keel.payments.ledger import billing_event
from keel.payments.models import Drift, ReconcileReport, Subscription, SubscriptionStatus
from keel.payments.subscriptions import _ref, iso_of, price_plan_id
from keel.plans import repo as plans
from keel.plans.models import Plan
from keel.store.change import Change
from keel.tenants import repo as tenants


def reconcile(principal: Principal) -> ReconcileReport:
    principal.require(Permission.GATEWAY_MANAGE)
    checked, changed, errors = 0, [], []
    for sub in repo.all_subscriptions():
        if sub.gateway != "stripe" or not sub.gateway_subscription_id:
            continue
        checked += 1
        try:
            remote = gateways.stripe_subscription(sub.gateway_subscription_id)
        except KeelError as err:
            errors.append({"subscription_id": sub.subscription_id, "error": err.message})
            continue
        changed += _fix(principal, sub, remote, errors)
    return ReconcileReport(checked=checked, changed=changed, errors=errors)


def _plan(sub: Subscription, remote: dict[str, Any], errors: list[dict[str, str]]) -> Plan | None:
    """The catalogue's plan the gateway charges for, when it is not ours."""
    named = price_plan_id(remote)
    if not named or named == sub.plan_id:
        return None
    plan = plans.get(named)
    if plan is None:
        errors.append(
            {
                "subscription_id": sub.subscription_id,
                "error": f"the gateway charges for plan {named!r}, which the catalogue does not have "
                f"(ours: {sub.plan_id!r}); not changed",
            }
        )
    return plan


def _fix(
    principal: Principal, sub: Subscription, remote: dict[str, Any], errors: list[dict[str, str]]
) -> list[Drift]:
    items = ((remote.get("items") or {}).get("data")) or [{}]
    theirs: dict[str, Any] = {
        "status": SubscriptionStatus(str(remote.get("status") or sub.status.value)),
        "cancel_at_period_end": bool(remote.get("cancel_at_period_end")),
        "current_period_end": iso_of(remote.get("current_period_end") or items[0].get("current_period_end"))
        or sub.current_period_end,
    }
    plan = _plan(sub, remote, errors)
    if plan is not None:
        theirs["plan_id"] = plan.plan_id
    ours: dict[str, Any] = {k: getattr(sub, k) for k in theirs}
    drift = [
        Drift(
            subscription_id=sub.subscription_id,
            tenant_id=sub.tenant_id,
            field=k,
            ours=ours[k].value if hasattr(ours[k], "value") else ours[k],
            gateway=theirs[k].value if hasattr(theirs[k], "value") else theirs[k],
        )
        for k in theirs
        if ours[k] != theirs[k]
    ]
    if not drift:
        return []
    billing = repo.for_tenant(sub.tenant_id)
    version = billing.subscription_version(sub.subscription_id)
    updated = sub.model_copy(update={**theirs, "updated_at": clock.iso()})
    change = Change(principal)
    billing.put_subscription(change.tx, updated, (version or 0) + 1, version)
    change.emit("subscription.reconciled", _ref(updated), tenant_id=sub.tenant_id)
    if plan is not None:  # the gateway already charges for it: its limit applies even below usage
        tenants.for_tenant(sub.tenant_id).set_plan(
            change.tx, plan.plan_id, plan.limits.max_users, refuse_below_usage=False
        )
        moved = {**_ref(updated), "from_plan": sub.plan_id}
        change.emit("subscription.updated", moved, tenant_id=sub.tenant_id)
    details = {d.field: {"ours": d.ours, "gateway": d.gateway} for d in drift}
    billing.add_billing_event(
        change.tx,
        billing_event(
            sub.tenant_id,
            "subscription.reconciled",
            sub.subscription_id,
            "corrected from the gateway: " + ", ".join(sorted(details)),
            principal.actor,
            **details,
        ),
    )
    change.audit(
        "subscription.reconcile",
        event_type="billing",
        tenant_id=sub.tenant_id,
        target_type="subscription",
        target_id=sub.subscription_id,
        details=details,
    )
    change.commit()
    return drift
