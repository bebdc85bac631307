"""Plans in DynamoDB: items `PLANS` / `PLAN#<id>`. The only code that touches them.

Plans are platform-wide (no tenant partition). A plan never stored reads as its default
(`defaults.py`), so a fresh stack has starter, professional and enterprise.
"""

from __future__ import annotations

from typing import Any

from keel.plans.defaults import DEFAULT_PLANS
from keel.plans.models import Plan
from keel.store import keys, table
from keel.store.table import Tx

_DEFAULTS = {p.plan_id: p for p in DEFAULT_PLANS}


def _out(item: dict[str, Any]) -> Plan:
    return Plan.model_validate({k: v for k, v in item.items() if k not in ("PK", "SK", "entity")})


def get(plan_id: str) -> Plan | None:
    """The plan (stored, else its default), or None: one read."""
    item = table.get(keys.PLANS_PK, keys.plan_sk(plan_id))
    return _out(item) if item else _DEFAULTS.get(plan_id)


def all_plans() -> list[Plan]:
    """Every plan, stored ones replacing defaults of the same id, by id: one query."""
    plans = dict(_DEFAULTS)
    for item in table.query_all(keys.PLANS_PK, sk_prefix=keys.plan_sk("")):
        plan = _out(item)
        plans[plan.plan_id] = plan
    return [plans[k] for k in sorted(plans)]


def plan_ids() -> set[str]:
    return {p.plan_id for p in all_plans()}


def put(tx: Tx, plan: Plan) -> None:
    tx.put(
        {
            "PK": keys.PLANS_PK,
            "SK": keys.plan_sk(plan.plan_id),
            "entity": "plan",
            **plan.model_dump(mode="json"),
        }
    )
