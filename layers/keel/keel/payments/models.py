"""Payment, invoice, refund, subscription, billing-event and gateway-event shapes.

Amounts are integers in the currency's minor unit (cents, kobo), never floats.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field

from keel.core.model import Model
from keel.payments.declines import DeclineAdvice

Gateway = Literal["stripe", "nomba", "manual"]


class PaymentStatus(StrEnum):
    PROCESSING = "processing"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


class Payment(Model):
    payment_id: str
    tenant_id: str
    gateway: Gateway
    gateway_payment_id: str
    invoice_id: str | None = None
    customer_email: str | None = None
    amount: int = Field(description="Minor units")
    currency: str
    status: PaymentStatus
    amount_refunded: int = 0
    decline_code: str | None = None
    decline: DeclineAdvice | None = Field(
        default=None, description="The decline code's meaning and next step"
    )
    failure_message: str | None = None
    created_at: str
    updated_at: str


class DuplicatePayments(Model):
    invoice_id: str
    currency: str
    paid_total: int
    payments: list[Payment]


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    VOID = "void"


class Invoice(Model):
    invoice_id: str
    tenant_id: str
    status: InvoiceStatus
    amount_due: int
    amount_paid: int = 0
    currency: str
    customer_email: str | None = None
    payment_ids: list[str] = Field(default_factory=list)
    paid_at: str | None = None
    marked_paid_reason: str | None = None
    marked_paid_by: str | None = None
    created_at: str
    updated_at: str


class MarkPaid(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=3, max_length=500, description="Why the invoice is paid outside the gateway"
    )


class RefundIn(Model):
    model_config = ConfigDict(extra="forbid")
    amount: int | None = Field(
        default=None, ge=1, description="Minor units; the whole refundable rest if absent"
    )
    reason: str = Field(default="requested_by_customer", min_length=3, max_length=200)


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(Model):
    refund_id: str
    payment_id: str
    tenant_id: str
    gateway: Gateway
    gateway_refund_id: str | None = None
    amount: int
    currency: str
    status: RefundStatus
    reason: str
    created_at: str
    updated_at: str


class RefundOut(Model):
    refund: Refund
    payment: Payment


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    INCOMPLETE = "incomplete"


class Subscription(Model):
    subscription_id: str
    tenant_id: str
    plan_id: str
    status: SubscriptionStatus
    gateway: Gateway
    gateway_subscription_id: str | None = None
    cancel_at_period_end: bool = False
    current_period_end: str | None = None
    canceled_at: str | None = None
    created_at: str
    updated_at: str


class PlanChange(Model):
    model_config = ConfigDict(extra="forbid")
    plan_id: str = Field(pattern=r"^[a-z0-9_-]{2,40}$")
    proration_behavior: Literal["create_prorations", "none", "always_invoice"] | None = Field(
        default=None,
        description="Stripe-managed subscriptions only: how Stripe prorates the switch (its default, "
        "create_prorations, when absent)",
    )


class CancelIn(Model):
    model_config = ConfigDict(extra="forbid")
    at_period_end: bool = Field(default=True, description="False: cancel now")
    reason: str | None = Field(default=None, max_length=500)


class BillingEvent(Model):
    billing_event_id: str
    tenant_id: str
    kind: str = Field(description="payment.succeeded, subscription.cancelled, invoice.paid, ...")
    subject_id: str = Field(description="The payment, invoice or subscription it is about")
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    actor: str
    at: str


class GatewayEvent(Model):
    """One delivery received from a gateway, valid or not, with what became of it."""

    receipt_id: str
    gateway: Literal["stripe", "nomba"]
    event_id: str | None = None
    event_type: str | None = None
    tenant_id: str | None = None
    received_at: str
    source_ip: str | None = None
    headers: dict[str, str]
    body: str
    verification: Literal["verified", "rejected"]
    verification_error: str | None = None
    processing: Literal["pending", "applied", "duplicate", "ignored", "failed", "rejected"]
    processing_detail: str | None = None
    processed_at: str | None = None


class Received(Model):
    received: bool = True
    receipt_id: str


class Drift(Model):
    subscription_id: str
    tenant_id: str
    field: str
    ours: Any
    gateway: Any


class ReconcileReport(Model):
    checked: int
    changed: list[Drift]
    errors: list[dict[str, str]] = Field(default_factory=list)


class GatewayHealth(Model):
    gateway: Literal["stripe", "nomba"]
    credentials_set: bool
    mode: Literal["test", "live", "unknown"]
    reachable: bool | None = Field(description="None when there are no credentials to try")
    reachable_error: str | None = None
    last_event_at: str | None = None
    recent_events: int
    recent_failure_rate: float = Field(description="Rejected or failed among the last 100 deliveries, 0-1")


class GatewayStatus(Model):
    gateways: list[GatewayHealth]
