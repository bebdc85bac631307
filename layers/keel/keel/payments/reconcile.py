"""Reconciliation: each gateway subscription compared with the gateway; drift fixed and reported.

Compared: status, cancel_at_period_end, current_period_end. The gateway is the truth for what
it charges; each correction is a transaction with its billing event, domain event and audit.
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
from keel.payments.subscriptions import _ref, iso_of
from keel.store.change import Change


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
        changed += _fix(principal, sub, remote)
    return ReconcileReport(checked=checked, changed=changed, errors=errors)


def _fix(principal: Principal, sub: Subscription, remote: dict[str, Any]) -> list[Drift]:
    items = ((remote.get("items") or {}).get("data")) or [{}]
    theirs: dict[str, Any] = {
        "status": SubscriptionStatus(str(remote.get("status") or sub.status.value)),
        "cancel_at_period_end": bool(remote.get("cancel_at_period_end")),
        "current_period_end": iso_of(remote.get("current_period_end") or items[0].get("current_period_end"))
        or sub.current_period_end,
    }
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
