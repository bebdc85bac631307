"""Payments, refunds, invoices and billing history of a tenant; gateway events for operators."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.payments import declines, gateways, repo
from keel.payments.ledger import billing_event
from keel.payments.models import (
    BillingEvent,
    DuplicatePayments,
    GatewayEvent,
    Invoice,
    InvoiceStatus,
    MarkPaid,
    Payment,
    PaymentStatus,
    Received,
    Refund,
    RefundIn,
    RefundOut,
    RefundStatus,
)
from keel.store.change import Change


def _advised(payment: Payment) -> Payment:
    return payment.model_copy(update={"decline": declines.advice(payment.decline_code)})


def list_payments(
    principal: Principal,
    tenant_id: str | None,
    filters: dict[str, str],
    limit: int,
    cursor: str | None,
) -> Page[Payment]:
    principal.require(Permission.BILLING_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).payments_page(
        limit, cursor, filters
    )
    return Page[Payment](items=[_advised(p) for p in items], next_cursor=next_cursor)


def get_payment(principal: Principal, tenant_id: str | None, payment_id: str) -> Payment:
    principal.require(Permission.BILLING_READ)
    return _advised(repo.for_tenant(principal.tenant_scope(tenant_id)).get_payment(payment_id))


def find_duplicates(principal: Principal, tenant_id: str | None) -> Page[DuplicatePayments]:
    """Invoices paid more than once: two or more succeeded payments of the same invoice."""
    principal.require(Permission.BILLING_READ)
    by_invoice: dict[str, list[Payment]] = defaultdict(list)
    for p in repo.for_tenant(principal.tenant_scope(tenant_id)).all_payments():
        if p.invoice_id and p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            by_invoice[p.invoice_id].append(p)
    found = [
        DuplicatePayments(
            invoice_id=invoice_id,
            currency=paid[0].currency,
            paid_total=sum(p.amount - p.amount_refunded for p in paid),
            payments=[_advised(p) for p in sorted(paid, key=lambda p: p.created_at)],
        )
        for invoice_id, paid in sorted(by_invoice.items())
        if len(paid) > 1
    ]
    return Page[DuplicatePayments](items=found)


def _refund_id(tenant_id: str, payment_id: str, idempotency_key: str | None) -> str:
    """The same Idempotency-Key names the same refund: a retry never refunds twice."""
    if not idempotency_key:
        return ids.new_id("ref")
    digest = hashlib.sha256(f"{tenant_id}:{payment_id}:{idempotency_key}".encode()).hexdigest()[:26]
    return f"ref_{digest}"


def refund(
    principal: Principal, tenant_id: str | None, payment_id: str, body: RefundIn, idempotency_key: str | None
) -> RefundOut:
    """Full or partial refund through the gateway that took the payment.

    1. reserve the amount on the payment (condition: refundable >= amount) with a pending refund
       item, one transaction; 2. ask the gateway, with an idempotency key derived from our
       refund id; 3. settle (or give the amount back if the gateway refused).
    """
    principal.require(Permission.PAYMENTS_REFUND)
    scoped = principal.tenant_scope(tenant_id)
    billing = repo.for_tenant(scoped)
    payment = billing.get_payment(payment_id)
    refund_id = _refund_id(scoped, payment_id, idempotency_key)
    existing = billing.get_refund(refund_id)
    if existing is not None and existing.status is not RefundStatus.PENDING:
        return RefundOut(refund=existing, payment=_advised(billing.get_payment(payment_id)))
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED) and existing is None:
        raise KeelError(
            ErrorCode.SAAS_052,
            f"A {payment.status.value} payment cannot be refunded",
            details=[{"field": "payment_id", "message": f"payment is {payment.status.value}"}],
        )
    amount = existing.amount if existing else (body.amount or payment.amount - payment.amount_refunded)
    if existing is None:
        if amount <= 0:
            raise KeelError(ErrorCode.SAAS_052, "Nothing is left to refund of this payment")
        now = clock.iso()
        existing = Refund(
            refund_id=refund_id,
            payment_id=payment_id,
            tenant_id=scoped,
            gateway=payment.gateway,
            amount=amount,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            reason=body.reason,
            created_at=now,
            updated_at=now,
        )
        reserve = Change(principal)
        billing.add_refund(reserve.tx, existing)
        billing.reserve_refund(reserve.tx, payment_id, amount)
        reserve.commit()
    try:
        if payment.gateway == "stripe":
            answer = gateways.stripe_refund(payment.gateway_payment_id, amount, refund_id, body.reason)
        elif payment.gateway == "nomba":
            answer = gateways.nomba_refund(payment.gateway_payment_id, amount, refund_id)
        else:
            answer = {"id": refund_id}
    except KeelError:
        failed = Change(principal)
        billing.set_refund(
            failed.tx, refund_id, {"status": RefundStatus.FAILED.value, "updated_at": clock.iso()}
        )
        billing.give_back_refund(failed.tx, payment_id, amount)
        failed.audit(
            "payment.refund_failed",
            event_type="billing",
            tenant_id=scoped,
            target_type="payment",
            target_id=payment_id,
            result="failure",
            details={"refund_id": refund_id, "amount": amount},
        )
        failed.commit()
        raise
    refunded_total = payment.amount_refunded + amount
    status = PaymentStatus.REFUNDED if refunded_total >= payment.amount else PaymentStatus.PARTIALLY_REFUNDED
    now = clock.iso()
    done = existing.model_copy(
        update={
            "status": RefundStatus.SUCCEEDED,
            "gateway_refund_id": str(answer.get("id") or answer.get("refundId") or refund_id),
            "updated_at": now,
        }
    )
    change = Change(principal)
    billing.set_refund(
        change.tx,
        refund_id,
        {"status": done.status.value, "gateway_refund_id": done.gateway_refund_id, "updated_at": now},
    )
    billing.settle_refund(change.tx, payment_id, amount, status.value)
    change.emit(
        "payment.refunded",
        {
            "tenant_id": scoped,
            "payment_id": payment_id,
            "invoice_id": payment.invoice_id,
            "gateway": payment.gateway,
            "amount": payment.amount,
            "currency": payment.currency,
            "refund_id": refund_id,
            "refunded": amount,
        },
        tenant_id=scoped,
    )
    billing.add_billing_event(
        change.tx,
        billing_event(
            scoped,
            "payment.refunded",
            payment_id,
            f"refunded {amount} {payment.currency}",
            principal.actor,
            refund_id=refund_id,
            reason=body.reason,
        ),
    )
    change.audit(
        "payment.refund",
        event_type="billing",
        tenant_id=scoped,
        target_type="payment",
        target_id=payment_id,
        details={"refund_id": refund_id, "amount": amount},
    )
    change.commit()
    return RefundOut(refund=done, payment=_advised(billing.get_payment(payment_id)))


def list_invoices(
    principal: Principal, tenant_id: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[Invoice]:
    principal.require(Permission.BILLING_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).invoices_page(
        limit, cursor, status
    )
    return Page[Invoice](items=items, next_cursor=next_cursor)


def get_invoice(principal: Principal, tenant_id: str | None, invoice_id: str) -> Invoice:
    principal.require(Permission.BILLING_READ)
    return repo.for_tenant(principal.tenant_scope(tenant_id)).get_invoice(invoice_id)


def mark_invoice_paid(
    principal: Principal, tenant_id: str | None, invoice_id: str, body: MarkPaid
) -> Invoice:
    principal.require(Permission.BILLING_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    billing = repo.for_tenant(scoped)
    invoice = billing.get_invoice(invoice_id)
    if invoice.status is InvoiceStatus.PAID:
        raise KeelError(ErrorCode.SAAS_011, "The invoice is already paid")
    now = clock.iso()
    updated = invoice.model_copy(
        update={
            "status": InvoiceStatus.PAID,
            "paid_at": now,
            "marked_paid_reason": body.reason,
            "marked_paid_by": principal.actor,
            "updated_at": now,
        }
    )
    change = Change(principal)
    billing.put_invoice(change.tx, updated, invoice.updated_at)
    change.emit(
        "invoice.paid", {"tenant_id": scoped, "invoice_id": invoice_id, "status": "paid"}, tenant_id=scoped
    )
    billing.add_billing_event(
        change.tx,
        billing_event(
            scoped,
            "invoice.marked_paid",
            invoice_id,
            "marked paid by hand",
            principal.actor,
            reason=body.reason,
        ),
    )
    change.audit(
        "invoice.mark_paid",
        event_type="billing",
        tenant_id=scoped,
        target_type="invoice",
        target_id=invoice_id,
        details={"reason": body.reason},
    )
    change.commit()
    return updated


def list_billing_events(
    principal: Principal, tenant_id: str | None, kind: str | None, limit: int, cursor: str | None
) -> Page[BillingEvent]:
    principal.require(Permission.BILLING_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).billing_events_page(
        limit, cursor, kind
    )
    return Page[BillingEvent](items=items, next_cursor=next_cursor)


def list_gateway_events(
    principal: Principal, gateway: str | None, processing: str | None, limit: int, cursor: str | None
) -> Page[GatewayEvent]:
    principal.require(Permission.GATEWAY_MANAGE)
    items, next_cursor = repo.receipts_page(gateway, limit, cursor, processing)
    return Page[GatewayEvent](items=items, next_cursor=next_cursor)


def reprocess(principal: Principal, receipt_id: str) -> Received:
    """Queues a stored, verified event to be applied again (handlers skip what is not newer)."""
    principal.require(Permission.GATEWAY_MANAGE)
    receipt = repo.require_receipt(receipt_id)
    if receipt.verification != "verified":
        raise KeelError(ErrorCode.SAAS_011, "A rejected delivery cannot be applied (its signature failed)")
    change = Change(principal)
    change.emit(
        "gateway.event_received", {"receipt_id": receipt_id, "gateway": receipt.gateway, "reprocess": True}
    )
    change.audit(
        "gateway_event.reprocess", event_type="billing", target_type="gateway_event", target_id=receipt_id
    )
    change.commit()
    return Received(receipt_id=receipt_id)
