"""The plan catalogue's operations: list (anyone billing can read), create and update (platform)."""

from __future__ import annotations

from typing import Any

from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.plans import repo
from keel.plans.models import Plan, PlanUpdate
from keel.store.change import Change


def list_plans(principal: Principal) -> Page[Plan]:
    principal.require(Permission.BILLING_READ)
    return Page[Plan](items=repo.all_plans())


def require(plan_id: str) -> Plan:
    plan = repo.get(plan_id)
    if plan is None:
        raise not_found(Kind.PLAN)
    return plan


def create_plan(principal: Principal, body: Plan) -> Plan:
    principal.require(Permission.PLANS_MANAGE)
    if body.plan_id in repo.plan_ids():
        raise KeelError(
            ErrorCode.SAAS_011,
            f"Plan {body.plan_id!r} already exists",
            details=[{"field": "plan_id", "message": "already exists"}],
        )
    change = Change(principal)
    repo.put(change.tx, body)
    change.audit(
        "plan.create",
        event_type="billing",
        target_type="plan",
        target_id=body.plan_id,
        details={
            "price": body.price,
            "currency": body.currency,
            "max_users": body.limits.max_users,
            "stripe_price": body.gateway_prices.stripe,
        },
    )
    change.commit()
    return body


def update_plan(principal: Principal, plan_id: str, body: PlanUpdate) -> Plan:
    principal.require(Permission.PLANS_MANAGE)
    current = require(plan_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return current
    updated = Plan.model_validate({**current.model_dump(), **changes})
    change = Change(principal)
    repo.put(change.tx, updated)
    change.audit(
        "plan.update",
        event_type="billing",
        target_type="plan",
        target_id=plan_id,
        details={"changed": sorted(changes)},
    )
    change.commit()
    return updated
