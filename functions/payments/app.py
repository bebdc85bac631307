"""Payments, invoices, plans, subscriptions, billing history, gateway events and status."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.payments import reconcile, service, status, subscriptions
from keel.payments.models import (
    BillingEvent,
    CancelIn,
    DuplicatePayments,
    GatewayEvent,
    GatewayStatus,
    Invoice,
    InvoiceStatus,
    MarkPaid,
    Payment,
    PaymentStatus,
    PlanChange,
    Received,
    ReconcileReport,
    RefundIn,
    RefundOut,
    Subscription,
    SubscriptionStatus,
)
from keel.plans import service as plans
from keel.plans.models import Plan, PlanUpdate

app = create_app()
TAGS = ["payments"]


# ---------------------------------------------------------------- gateway events
@app.get(
    "/gateway-events",
    operation_id="list_gateway_events",
    middlewares=[requires(Permission.GATEWAY_MANAGE)],
    tags=TAGS,
)
def list_gateway_events(
    gateway: Annotated[Literal["stripe", "nomba"] | None, Query()] = None,
    processing: Annotated[
        Literal["pending", "applied", "duplicate", "ignored", "failed", "rejected"] | None, Query()
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[GatewayEvent]:
    return service.list_gateway_events(principal(app), gateway, processing, limit, cursor)


@app.post(
    "/gateway-events/<receipt_id>/reprocess",
    operation_id="reprocess_gateway_event",
    middlewares=[requires(Permission.GATEWAY_MANAGE)],
    tags=TAGS,
)
def reprocess_gateway_event(receipt_id: str) -> Response[Received]:
    return Response(
        status_code=202, body=service.reprocess(principal(app), receipt_id), content_type="application/json"
    )


@app.get(
    "/gateway-status",
    operation_id="get_gateway_status",
    middlewares=[requires(Permission.GATEWAY_MANAGE)],
    tags=TAGS,
)
def get_gateway_status() -> GatewayStatus:
    return status.gateway_status(principal(app))


# ---------------------------------------------------------------- payments
@app.get(
    "/payments", operation_id="list_payments", middlewares=[requires(Permission.BILLING_READ)], tags=TAGS
)
def list_payments(
    tenant_id: TenantParam = None,
    status: Annotated[PaymentStatus | None, Query()] = None,
    invoice_id: Annotated[str | None, Query(max_length=64)] = None,
    customer_email: Annotated[str | None, Query(max_length=254)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Payment]:
    filters = {
        "status": status.value if status else None,
        "invoice_id": invoice_id,
        "customer_email": customer_email,
    }
    chosen = {k: v for k, v in filters.items() if v}
    return service.list_payments(principal(app), tenant_id, chosen, limit, cursor)


@app.get(
    "/duplicate-payments",
    operation_id="find_duplicate_payments",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def find_duplicate_payments(tenant_id: TenantParam = None) -> Page[DuplicatePayments]:
    return service.find_duplicates(principal(app), tenant_id)


@app.get(
    "/payments/<payment_id>",
    operation_id="get_payment",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def get_payment(payment_id: str, tenant_id: TenantParam = None) -> Payment:
    return service.get_payment(principal(app), tenant_id, payment_id)


@app.post(
    "/payments/<payment_id>/refunds",
    operation_id="refund_payment",
    middlewares=[requires(Permission.PAYMENTS_REFUND)],
    tags=TAGS,
)
def refund_payment(payment_id: str, body: RefundIn, tenant_id: TenantParam = None) -> Response[RefundOut]:
    key = (app.current_event.headers or {}).get("idempotency-key")
    return Response(
        status_code=201,
        body=service.refund(principal(app), tenant_id, payment_id, body, key),
        content_type="application/json",
    )


# ---------------------------------------------------------------- invoices
@app.get(
    "/invoices", operation_id="list_invoices", middlewares=[requires(Permission.BILLING_READ)], tags=TAGS
)
def list_invoices(
    tenant_id: TenantParam = None,
    status: Annotated[InvoiceStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Invoice]:
    return service.list_invoices(principal(app), tenant_id, status.value if status else None, limit, cursor)


@app.get(
    "/invoices/<invoice_id>",
    operation_id="get_invoice",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def get_invoice(invoice_id: str, tenant_id: TenantParam = None) -> Invoice:
    return service.get_invoice(principal(app), tenant_id, invoice_id)


@app.post(
    "/invoices/<invoice_id>/mark-paid",
    operation_id="mark_invoice_paid",
    middlewares=[requires(Permission.BILLING_MANAGE)],
    tags=TAGS,
)
def mark_invoice_paid(invoice_id: str, body: MarkPaid, tenant_id: TenantParam = None) -> Invoice:
    return service.mark_invoice_paid(principal(app), tenant_id, invoice_id, body)


@app.get(
    "/billing-events",
    operation_id="list_billing_events",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def list_billing_events(
    tenant_id: TenantParam = None,
    kind: Annotated[
        str | None, Query(max_length=60, description="Prefix: payment., subscription., invoice.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[BillingEvent]:
    return service.list_billing_events(principal(app), tenant_id, kind, limit, cursor)


# ---------------------------------------------------------------- plans and subscriptions
@app.get("/plans", operation_id="list_plans", middlewares=[requires(Permission.BILLING_READ)], tags=TAGS)
def list_plans() -> Page[Plan]:
    return plans.list_plans(principal(app))


@app.post("/plans", operation_id="create_plan", middlewares=[requires(Permission.PLANS_MANAGE)], tags=TAGS)
def create_plan(body: Plan) -> Response[Plan]:
    return Response(
        status_code=201, body=plans.create_plan(principal(app), body), content_type="application/json"
    )


@app.patch(
    "/plans/<plan_id>", operation_id="update_plan", middlewares=[requires(Permission.PLANS_MANAGE)], tags=TAGS
)
def update_plan(plan_id: str, body: PlanUpdate) -> Plan:
    return plans.update_plan(principal(app), plan_id, body)


@app.get(
    "/subscriptions",
    operation_id="list_subscriptions",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def list_subscriptions(
    tenant_id: TenantParam = None,
    status: Annotated[SubscriptionStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Subscription]:
    return subscriptions.list_subscriptions(
        principal(app), tenant_id, status.value if status else None, limit, cursor
    )


@app.get(
    "/subscriptions/<subscription_id>",
    operation_id="get_subscription",
    middlewares=[requires(Permission.BILLING_READ)],
    tags=TAGS,
)
def get_subscription(subscription_id: str, tenant_id: TenantParam = None) -> Subscription:
    return subscriptions.get_subscription(principal(app), tenant_id, subscription_id)


@app.post(
    "/subscriptions/<subscription_id>/plan",
    operation_id="change_subscription_plan",
    middlewares=[requires(Permission.BILLING_MANAGE)],
    tags=TAGS,
)
def change_subscription_plan(
    subscription_id: str, body: PlanChange, tenant_id: TenantParam = None
) -> Subscription:
    return subscriptions.change_plan(principal(app), tenant_id, subscription_id, body)


@app.post(
    "/subscriptions/<subscription_id>/cancel",
    operation_id="cancel_subscription",
    middlewares=[requires(Permission.BILLING_MANAGE)],
    tags=TAGS,
)
def cancel_subscription(subscription_id: str, body: CancelIn, tenant_id: TenantParam = None) -> Subscription:
    return subscriptions.cancel(principal(app), tenant_id, subscription_id, body)


@app.post(
    "/subscriptions/<subscription_id>/renew",
    operation_id="renew_subscription",
    middlewares=[requires(Permission.BILLING_MANAGE)],
    tags=TAGS,
)
def renew_subscription(subscription_id: str, tenant_id: TenantParam = None) -> Subscription:
    return subscriptions.renew(principal(app), tenant_id, subscription_id)


@app.post(
    "/billing/reconcile",
    operation_id="reconcile_subscriptions",
    middlewares=[requires(Permission.GATEWAY_MANAGE)],
    tags=TAGS,
)
def reconcile_subscriptions() -> ReconcileReport:
    return reconcile.reconcile(principal(app))


lambda_handler = entrypoint(app)
