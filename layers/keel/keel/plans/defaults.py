"""The plans every stack starts with; a stored plan of the same id replaces its default."""

from __future__ import annotations

from keel.plans.models import Interval, Plan, PlanLimits

DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan(
        plan_id="starter",
        name="Starter",
        price=4900,
        currency="USD",
        interval=Interval.MONTH,
        limits=PlanLimits(max_users=25),
        features=["inventory", "prescriptions"],
    ),
    Plan(
        plan_id="professional",
        name="Professional",
        price=14900,
        currency="USD",
        interval=Interval.MONTH,
        limits=PlanLimits(max_users=100),
        features=["inventory", "prescriptions", "analytics", "sms_alerts"],
    ),
    Plan(
        plan_id="enterprise",
        name="Enterprise",
        price=49900,
        currency="USD",
        interval=Interval.MONTH,
        limits=PlanLimits(max_users=1000),
        features=["inventory", "prescriptions", "analytics", "sms_alerts", "api_access", "sso"],
    ),
)
