"""Recording what a gateway says about a payment: the payment, its invoice, a billing event and
the domain events, in one transaction.

Out of order safe: each write carries a version (the status's rank, then the event's own time),
and a write lands only over the version it read, and only when it is newer: a late
`payment_intent.payment_failed` never overwrites a `succeeded`, a replayed event changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal
from keel.payments import repo
from keel.payments.models import BillingEvent, Invoice, InvoiceStatus, Payment, PaymentStatus
from keel.store.change import Change

RANK = {
    PaymentStatus.PROCESSING: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.SUCCEEDED: 3,
    PaymentStatus.PARTIALLY_REFUNDED: 4,
    PaymentStatus.REFUNDED: 5,
}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ATTEMPTS = 4


def payment_id_for(gateway: str, gateway_payment_id: str) -> str:
    """Our id of a gateway's payment: the same payment always maps to the same item."""
    return "pay_" + hashlib.sha256(f"{gateway}:{gateway_payment_id}".encode()).hexdigest()[:26]


def invoice_id_for(given: str | None, payment_id: str) -> str:
    if given and _SAFE_ID.match(given):
        return given
    if given:
        return "inv_" + hashlib.sha256(given.encode()).hexdigest()[:26]
    return "inv_" + payment_id.removeprefix("pay_")


def system(tenant_id: str, job: str = "gateway-events") -> Principal:
    return Principal.system(tenant_id=tenant_id, job=job)


def billing_event(
    tenant_id: str, kind: str, subject_id: str, summary: str, actor: str, **details: Any
) -> BillingEvent:
    return BillingEvent(
        billing_event_id=ids.new_id("bev"),
        tenant_id=tenant_id,
        kind=kind,
        subject_id=subject_id,
        summary=summary,
        details={k: v for k, v in details.items() if v is not None},
        actor=actor,
        at=clock.iso(),
    )


@dataclass(frozen=True)
class GatewayPayment:
    """What a gateway event says about one payment."""

    tenant_id: str
    gateway: str
    gateway_payment_id: str
    amount: int
    currency: str
    status: PaymentStatus
    created: int  # the event's own time (epoch seconds)
    invoice_ref: str | None = None
    customer_email: str | None = None
    decline_code: str | None = None
    failure_message: str | None = None


def record(gp: GatewayPayment) -> str:
    """Applies a gateway's word on a payment: 'applied', or 'stale' when newer state is stored."""
    for attempt in range(ATTEMPTS):
        try:
            return _record_once(gp)
        except KeelError as err:
            if err.code is not ErrorCode.SAAS_011 or attempt == ATTEMPTS - 1:
                raise
    return "stale"  # pragma: no cover


def _customer_email(gp: GatewayPayment, stored: dict[str, Any] | None) -> str | None:
    """The gateway's word on the customer's e-mail, unless a data request erased it (a late or
    replayed event does not bring it back)."""
    kept = (stored or {}).get("customer_email")
    return kept if kept == repo.ERASED else gp.customer_email or kept


def _record_once(gp: GatewayPayment) -> str:
    billing = repo.for_tenant(gp.tenant_id)
    payment_id = payment_id_for(gp.gateway, gp.gateway_payment_id)
    stored = billing.payment_item(payment_id)
    version = RANK[gp.status] * 10**10 + gp.created
    if stored is not None and int(stored.get("version", 0)) >= version:
        return "stale"
    now = clock.iso()
    invoice_id = (stored or {}).get("invoice_id") or invoice_id_for(gp.invoice_ref, payment_id)
    payment = Payment(
        payment_id=payment_id,
        tenant_id=gp.tenant_id,
        gateway=gp.gateway,
        gateway_payment_id=gp.gateway_payment_id,
        invoice_id=invoice_id,
        customer_email=_customer_email(gp, stored),
        amount=gp.amount,
        currency=gp.currency.upper(),
        status=gp.status,
        amount_refunded=int((stored or {}).get("amount_refunded", 0)),
        decline_code=gp.decline_code if gp.status is PaymentStatus.FAILED else None,
        failure_message=gp.failure_message if gp.status is PaymentStatus.FAILED else None,
        created_at=(stored or {}).get("created_at") or now,
        updated_at=now,
    )
    change = Change(system(gp.tenant_id))
    billing.put_payment(change.tx, payment, version, int(stored["version"]) if stored else None)
    was_paid = stored is not None and stored.get("status") in ("succeeded", "partially_refunded", "refunded")
    _invoice(change, billing, payment, newly_paid=gp.status is PaymentStatus.SUCCEEDED and not was_paid)
    ref = {
        "tenant_id": gp.tenant_id,
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "gateway": gp.gateway,
        "amount": gp.amount,
        "currency": payment.currency,
    }
    kind = f"payment.{gp.status.value}"
    if gp.status is PaymentStatus.SUCCEEDED:
        change.emit("payment.succeeded", ref, tenant_id=gp.tenant_id)
    elif gp.status is PaymentStatus.FAILED:
        change.emit("payment.failed", {**ref, "decline_code": gp.decline_code}, tenant_id=gp.tenant_id)
    summary = f"{gp.gateway} payment {gp.status.value}: {gp.amount} {payment.currency}"
    if gp.decline_code:
        summary += f" ({gp.decline_code})"
    billing.add_billing_event(
        change.tx,
        billing_event(
            gp.tenant_id,
            kind,
            payment_id,
            summary,
            change.principal.actor,
            invoice_id=invoice_id,
            gateway_payment_id=gp.gateway_payment_id,
            decline_code=gp.decline_code,
        ),
    )
    change.audit(
        kind,
        event_type="billing",
        tenant_id=gp.tenant_id,
        target_type="payment",
        target_id=payment_id,
        details={"gateway": gp.gateway, "amount": gp.amount, "currency": payment.currency},
    )
    change.commit()
    return "applied"


def _invoice(change: Change, billing: repo.BillingRepo, payment: Payment, *, newly_paid: bool) -> None:
    assert payment.invoice_id
    stored = billing.invoice_item(payment.invoice_id)
    now = clock.iso()
    if stored is None:
        invoice = Invoice(
            invoice_id=payment.invoice_id,
            tenant_id=payment.tenant_id,
            status=InvoiceStatus.OPEN,
            amount_due=payment.amount,
            currency=payment.currency,
            customer_email=payment.customer_email,
            created_at=now,
            updated_at=now,
        )
    else:
        invoice = Invoice.model_validate({k: v for k, v in stored.items() if k in Invoice.model_fields})
    changes: dict[str, Any] = {"updated_at": now}
    if payment.payment_id not in invoice.payment_ids:
        changes["payment_ids"] = [*invoice.payment_ids, payment.payment_id]
    if newly_paid:
        changes["amount_paid"] = invoice.amount_paid + payment.amount
        if invoice.status is not InvoiceStatus.PAID:
            changes.update(status=InvoiceStatus.PAID, paid_at=now)
            change.emit(
                "invoice.paid",
                {"tenant_id": payment.tenant_id, "invoice_id": invoice.invoice_id, "status": "paid"},
                tenant_id=payment.tenant_id,
            )
    elif payment.status is PaymentStatus.FAILED and invoice.status is not InvoiceStatus.PAID:
        changes["status"] = InvoiceStatus.PAYMENT_FAILED
        change.emit(
            "invoice.payment_failed",
            {"tenant_id": payment.tenant_id, "invoice_id": invoice.invoice_id, "status": "payment_failed"},
            tenant_id=payment.tenant_id,
        )
    billing.put_invoice(
        change.tx, invoice.model_copy(update=changes), stored.get("updated_at") if stored else None
    )
