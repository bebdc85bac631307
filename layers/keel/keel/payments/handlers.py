"""This area's gateway handlers: payments (Stripe payment intents, Nomba payments) and Stripe
subscriptions, registered in `gateway_handlers` like any other area's."""

from __future__ import annotations

from typing import Any

from keel.payments import gateway_handlers, ledger, subscriptions
from keel.payments.gateway_handlers import event_created, on
from keel.payments.ledger import GatewayPayment
from keel.payments.models import PaymentStatus
from keel.tenants import repo as tenants


class Ignored(Exception):
    """The event is not for us (no known tenant): stored and ignored."""


def _tenant(metadata: dict[str, Any]) -> str:
    tenant_id = str(metadata.get("tenant_id") or "")
    if not tenant_id or tenants.for_tenant(tenant_id).get() is None:
        raise Ignored("no known tenant in metadata.tenant_id")
    return tenant_id


def _intent(obj: dict[str, Any], status: PaymentStatus) -> None:
    metadata = obj.get("metadata") or {}
    error = obj.get("last_payment_error") or {}
    ledger.record(
        GatewayPayment(
            tenant_id=_tenant(metadata),
            gateway="stripe",
            gateway_payment_id=str(obj["id"]),
            amount=int(obj.get("amount_received") or obj.get("amount") or 0),
            currency=str(obj.get("currency") or "usd"),
            status=status,
            created=event_created(),
            invoice_ref=metadata.get("invoice_id") or obj.get("invoice"),
            customer_email=obj.get("receipt_email") or metadata.get("customer_email"),
            decline_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message"),
        )
    )


@on("payment_intent.succeeded")
def intent_succeeded(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    _intent(obj, PaymentStatus.SUCCEEDED)


@on("payment_intent.payment_failed")
def intent_failed(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    _intent(obj, PaymentStatus.FAILED)


@on("payment_intent.processing")
def intent_processing(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    _intent(obj, PaymentStatus.PROCESSING)


def _subscription(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    result = subscriptions.apply_gateway_subscription("stripe", obj, event_created())
    if result.startswith("ignored"):
        raise Ignored(result.removeprefix("ignored: "))


for _type in (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
):
    gateway_handlers.register_handler(_type, _subscription)


def _nomba(obj: dict[str, Any], status: PaymentStatus) -> None:
    txn, order = obj.get("transaction") or {}, obj.get("order") or {}
    metadata = order.get("metadata") or {}
    amount = order.get("amount") if order.get("amount") is not None else txn.get("transactionAmount")
    code = txn.get("responseCode")
    ledger.record(
        GatewayPayment(
            tenant_id=_tenant(metadata),
            gateway="nomba",
            gateway_payment_id=str(txn.get("transactionId") or ""),
            amount=round(float(amount or 0) * 100),  # Nomba sends naira with two decimals: kobo here
            currency=str(order.get("currency") or "NGN"),
            status=status,
            created=event_created(),
            invoice_ref=order.get("orderReference"),
            customer_email=(obj.get("customer") or {}).get("email") or order.get("customerEmail"),
            decline_code=None if code in (None, "", "null", "00") else f"nomba_{code}",
            failure_message=txn.get("responseMessage") if status is PaymentStatus.FAILED else None,
        )
    )


@on("payment_success", gateway="nomba")
def nomba_success(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    _nomba(obj, PaymentStatus.SUCCEEDED)


@on("payment_failed", gateway="nomba")
def nomba_failed(event_id: str, obj: dict[str, Any]) -> None:  # noqa: ARG001
    _nomba(obj, PaymentStatus.FAILED)
