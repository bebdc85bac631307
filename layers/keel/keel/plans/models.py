"""Plan shapes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from keel.core.model import Model

PLAN_ID_PATTERN = r"^[a-z0-9_-]{2,40}$"
STRIPE_PRICE_PATTERN = r"^price_[A-Za-z0-9_]{1,120}$"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class PlanLimits(Model):
    model_config = ConfigDict(extra="forbid")
    max_users: int = Field(ge=1, le=100_000, description="Users a tenant on this plan may have")


class GatewayPrices(Model):
    """The gateway's own price for a plan: what a plan change on a gateway-managed subscription
    switches it to. Only Stripe has price objects here (Nomba subscriptions are ours alone)."""

    model_config = ConfigDict(extra="forbid")
    stripe: str | None = Field(
        default=None,
        pattern=STRIPE_PRICE_PATTERN,
        description="The Stripe price id (`price_...`) charging this plan; its `lookup_key` (or "
        "`metadata.plan_id`) should name the plan, which reconciliation reads",
    )


class Plan(Model):
    model_config = ConfigDict(extra="forbid")
    plan_id: str = Field(pattern=PLAN_ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    price: int = Field(ge=0, description="Price per interval in minor units (cents, kobo)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    interval: Interval = Interval.MONTH
    limits: PlanLimits
    features: list[str] = Field(default_factory=list, description="Feature keys the plan includes")
    active: bool = Field(default=True, description="Inactive plans keep their tenants but take no new ones")
    gateway_prices: GatewayPrices = Field(
        default_factory=GatewayPrices, description="The gateways' prices for this plan (none by default)"
    )


class PlanUpdate(Model):
    """What `update_plan` may change (the id stays). Tenants already on the plan keep their
    limit until their plan is next changed; a lower user limit never removes users."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=80)
    price: int | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    interval: Interval | None = None
    limits: PlanLimits | None = None
    features: list[str] | None = None
    active: bool | None = None
    gateway_prices: GatewayPrices | None = Field(
        default=None, description='Replaces the gateway prices; `{"stripe": null}` removes the Stripe price'
    )
