"""Workshop events, their public availability, checkout requests, the ledger and registrations."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from keel.core.email import Email
from keel.core.model import Model

Tier = Literal["GA", "VIP"]
TIERS: tuple[Tier, ...] = ("GA", "VIP")
CITY_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"  # e.g. `dallas-jan-2026`
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164
MAX_QUANTITY = 10
MAX_EXPANSION = 50


class TierSpec(Model):
    model_config = ConfigDict(extra="forbid")
    public_limit: int = Field(ge=0, le=100_000, description="What buyers are shown")
    actual_limit: int = Field(ge=0, le=100_000, description="What may be sold (never shown to buyers)")
    price: int = Field(ge=0, le=10_000_000, description="Minor units (cents)")
    member_price: int = Field(ge=0, le=10_000_000, description="Minor units, for members")


class EventCreate(Model):
    model_config = ConfigDict(extra="forbid")
    city_id: str = Field(pattern=CITY_PATTERN, description="e.g. `dallas-jan-2026`")
    name: str = Field(min_length=2, max_length=120)
    city: str = Field(min_length=2, max_length=80)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="ISO date, e.g. 2026-01-25")
    venue: str = Field(min_length=2, max_length=200)
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    tiers: dict[Tier, TierSpec] = Field(description="GA and VIP")
    staff_phones: list[str] = Field(default=[], max_length=5, description="E.164 numbers alerted on sales")
    staff_emails: list[Email] = Field(default=[], max_length=5, description="The alerts' fallback channel")

    @model_validator(mode="after")
    def _both_tiers(self) -> EventCreate:
        if set(self.tiers) != set(TIERS):
            raise ValueError("tiers must define GA and VIP")
        for phone in self.staff_phones:
            if not re.match(PHONE_PATTERN, phone):
                raise ValueError("staff_phones must be E.164 numbers, e.g. +14155550100")
        return self


class TierUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    public_limit: int | None = Field(default=None, ge=0, le=100_000)
    price: int | None = Field(default=None, ge=0, le=10_000_000)
    member_price: int | None = Field(default=None, ge=0, le=10_000_000)


class EventUpdate(Model):
    """Actual limits change only through expand_inventory / correct_inventory (ledger entries)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=2, max_length=120)
    date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    venue: str | None = Field(default=None, min_length=2, max_length=200)
    on_sale: bool | None = None
    tiers: dict[Tier, TierUpdate] | None = None
    staff_phones: list[str] | None = Field(default=None, max_length=5)
    staff_emails: list[Email] | None = Field(default=None, max_length=5)


class TierOut(Model):
    public_limit: int
    actual_limit: int
    price: int
    member_price: int
    held: int
    sold: int
    remaining: int
    oversold: int = 0


class EventOut(Model):
    city_id: str
    name: str
    city: str
    date: str
    venue: str
    currency: str
    on_sale: bool
    tiers: dict[str, TierOut]
    staff_phones: list[str]
    staff_emails: list[str]
    created_at: str
    updated_at: str


class PublicTier(Model):
    public_limit: int
    available: int = Field(description="Seats a buyer may still take, as shown publicly")
    sold_out: bool
    price: int
    member_price: int


class PublicInventory(Model):
    city_id: str
    name: str
    city: str
    date: str
    venue: str
    currency: str
    on_sale: bool
    tiers: dict[str, PublicTier]


class Customer(Model):
    model_config = ConfigDict(extra="forbid")
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    email: Email
    business_type: str = Field(min_length=2, max_length=40, description="e.g. individual, shop owner")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="E.164, for SMS")


class CheckoutRequest(Model):
    model_config = ConfigDict(extra="forbid")
    city_id: str = Field(pattern=CITY_PATTERN)
    ticket_type: Tier
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    is_member: bool = False
    customer: Customer


class CheckoutOut(Model):
    hold_id: str
    session_id: str
    url: str
    expires_at: str
    amount_total: int
    currency: str


class ExpandRequest(Model):
    model_config = ConfigDict(extra="forbid")
    tier: Tier
    additional_spots: int = Field(ge=1, le=MAX_EXPANSION)
    reason: str = Field(min_length=5, max_length=500)
    expand_public_limit: bool = Field(default=True, description="Show the new seats to buyers too")


class Counts(Model):
    model_config = ConfigDict(extra="forbid")
    actual_limit: int = Field(ge=0, le=100_000)
    held: int = Field(ge=0, le=100_000)
    sold: int = Field(ge=0, le=100_000)


class CorrectRequest(Model):
    model_config = ConfigDict(extra="forbid")
    tier: Tier
    counts: Counts = Field(description="The audited values; remaining becomes actual_limit - held - sold")
    reason: str = Field(min_length=5, max_length=500)


LedgerOp = Literal["open", "hold", "release", "sale", "late_sale", "oversell", "expand", "correct"]


class LedgerEntry(Model):
    ledger_id: str
    at: str
    city_id: str
    tier: str
    op: LedgerOp
    quantity: int
    deltas: dict[str, int] = Field(description="Change of each counter: actual_limit, held, sold, remaining")
    hold_id: str | None = None
    registration_id: str | None = None
    actor: str | None = None
    reason: str | None = None


class TierAudit(Model):
    tier: str
    counters: dict[str, int]
    ledger: dict[str, int]
    mismatch: dict[str, int] = Field(description="counter - ledger, for each counter that differs")
    ok: bool


class InventoryAudit(Model):
    city_id: str
    at: str
    ok: bool
    tiers: list[TierAudit]


class RegistrationOut(Model):
    registration_id: str
    city_id: str
    tier: str
    quantity: int
    is_member: bool
    amount_total: int | None = None
    currency: str | None = None
    status: Literal["paid", "oversold"]
    first_name: str | None = Field(default=None, description="None once the buyer data is erased")
    last_name: str | None = None
    email: str | None = None
    business_type: str
    phone: str | None = None
    hold_id: str
    session_id: str | None = None
    created_at: str
    notified_at: str | None = None
    buyer_data_erased_at: str | None = Field(
        default=None, description="When the contact data was erased (retention: days after the event)"
    )


class NotifyResult(Model):
    notified: int = Field(description="Customers told now")
    already_notified: int = Field(description="Customers told by an earlier call (not told again)")
