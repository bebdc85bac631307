"""Payments' items in DynamoDB. The only code that touches them (see keys.py for the layout).

Gateway receipts and event claims are the platform's; everything else is in the tenant's
partition, built from the caller's scope (`for_tenant(principal.tenant_scope(...))`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.payments.models import (
    BillingEvent,
    GatewayEvent,
    Invoice,
    Payment,
    Refund,
    Subscription,
)
from keel.store import keys, table
from keel.store.expressions import updates
from keel.store.table import Tx

_META = {
    "PK",
    "SK",
    "entity",
    "GSI1PK",
    "GSI1SK",
    "GSI2PK",
    "GSI2SK",
    "GSI3PK",
    "GSI3SK",
    "version",
    "refundable",
    "held",  # a receipt's personal values held for the worker (`redaction`): never shown
}


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _META}


# ------------------------------------------------------------------ gateway receipts and claims


def add_receipt(tx: Tx, event: GatewayEvent, held: dict[str, str] | None = None) -> None:
    """A delivery; `held`: the personal values its worker needs, removed once it is processed."""
    tx.put(
        {
            "PK": keys.gateway_event_pk(event.receipt_id),
            "SK": keys.GATEWAY_EVENT_SK,
            "entity": "gateway_event",
            "GSI1PK": keys.GATEWAY_EVENTS_INDEX_PK,
            "GSI1SK": keys.created_sk(event.received_at, event.receipt_id),
            "GSI2PK": keys.gateway_events_gateway_index_pk(event.gateway),
            "GSI2SK": keys.created_sk(event.received_at, event.receipt_id),
            **event.model_dump(mode="json"),
            **({"held": held} if held else {}),
        },
        condition="attribute_not_exists(PK)",
    )


def get_receipt(receipt_id: str) -> GatewayEvent | None:
    item = table.get(keys.gateway_event_pk(receipt_id), keys.GATEWAY_EVENT_SK, consistent=True)
    return GatewayEvent.model_validate(_clean(item)) if item else None


def require_receipt(receipt_id: str) -> GatewayEvent:
    found = get_receipt(receipt_id)
    if found is None:
        raise not_found(Kind.GATEWAY_EVENT)
    return found


def receipt_to_apply(receipt_id: str) -> tuple[GatewayEvent, dict[str, str]]:
    """A delivery and the personal values held for its worker (empty once it was processed)."""
    item = table.get(keys.gateway_event_pk(receipt_id), keys.GATEWAY_EVENT_SK, consistent=True)
    if item is None:
        raise not_found(Kind.GATEWAY_EVENT)
    return GatewayEvent.model_validate(_clean(item)), dict(item.get("held") or {})


def set_receipt_result(receipt_id: str, processing: str, detail: str | None, tenant_id: str | None) -> None:
    """What became of a delivery; the values held for its worker go unless it failed (retried)."""
    fields = {"processing": processing, "processed_at": clock.iso(), "processing_detail": detail}
    if tenant_id:
        fields["tenant_id"] = tenant_id
    gone = [k for k, v in fields.items() if v is None] + ([] if processing == "failed" else ["held"])
    upd = updates({k: v for k, v in fields.items() if v is not None}, remove=gone)
    table.update(
        keys.gateway_event_pk(receipt_id),
        keys.GATEWAY_EVENT_SK,
        upd.expression,
        names=upd.names,
        values=upd.values,
    )


def receipts_page(
    gateway: str | None, limit: int, cursor: str | None, processing: str | None = None
) -> tuple[list[GatewayEvent], str | None]:
    pk, index = (
        (keys.gateway_events_gateway_index_pk(gateway), "GSI2")
        if gateway
        else (keys.GATEWAY_EVENTS_INDEX_PK, "GSI1")
    )
    kwargs: dict[str, Any] = {}
    if processing:
        kwargs = {
            "filter_expression": "#proc = :proc",
            "names": {"#proc": "processing"},
            "values": {":proc": processing},
        }
    page = table.query(pk, index=index, limit=limit, cursor=cursor, newest_first=True, **kwargs)
    return [GatewayEvent.model_validate(_clean(i)) for i in page.items], page.next_cursor


def claim(gateway: str, event_id: str, receipt_id: str, lease_seconds: int) -> str | None:
    """Claims an event id for this receipt: None when claimed, else the receipt holding it.

    A conditional put: of five deliveries of one event at once, exactly one wins. A claim whose
    holder died (its lease ran out before it finished) can be taken over.
    """
    now = clock.epoch()
    try:
        table.update(
            keys.gateway_applied_pk(gateway, event_id),
            keys.GATEWAY_APPLIED_SK,
            "SET entity = :entity, receipt_id = :me, #state = :processing, lease_until = :until, "
            "claimed_at = :at",
            condition="attribute_not_exists(PK) OR (#state = :processing AND lease_until < :now)",
            names={"#state": "state"},
            values={
                ":entity": "gateway_claim",
                ":me": receipt_id,
                ":processing": "processing",
                ":until": now + lease_seconds,
                ":at": clock.iso(),
                ":now": now,
            },
        )
    except KeelError:
        held = table.get(keys.gateway_applied_pk(gateway, event_id), keys.GATEWAY_APPLIED_SK, consistent=True)
        return str((held or {}).get("receipt_id") or "another delivery")
    return None


def finish_claim(gateway: str, event_id: str) -> None:
    table.update(
        keys.gateway_applied_pk(gateway, event_id),
        keys.GATEWAY_APPLIED_SK,
        "SET #state = :done, applied_at = :at REMOVE lease_until",
        names={"#state": "state"},
        values={":done": "applied", ":at": clock.iso()},
    )


def release_claim(gateway: str, event_id: str, receipt_id: str) -> None:
    try:
        table.update(
            keys.gateway_applied_pk(gateway, event_id),
            keys.GATEWAY_APPLIED_SK,
            "SET lease_until = :zero",
            condition="receipt_id = :me",
            values={":zero": 0, ":me": receipt_id},
        )
    except KeelError:
        return  # another receipt holds it now


# ------------------------------------------------------------------ subscriptions by gateway id


def subscription_for_gateway(gateway: str, gateway_subscription_id: str) -> tuple[str, str] | None:
    """(tenant_id, subscription_id) of the subscription a gateway's id names."""
    item = table.get(
        keys.gateway_subscription_pk(gateway, gateway_subscription_id), keys.GATEWAY_SUBSCRIPTION_SK
    )
    return (str(item["tenant_id"]), str(item["subscription_id"])) if item else None


def all_subscriptions() -> list[Subscription]:
    """Every subscription of the platform (reconciliation)."""
    return [
        Subscription.model_validate(_clean(i))
        for i in table.query_all(keys.SUBSCRIPTIONS_INDEX_PK, index="GSI1")
    ]


def subscriptions_page(
    status: str | None, limit: int, cursor: str | None
) -> tuple[list[Subscription], str | None]:
    if status:
        page = table.query(
            keys.subscriptions_status_index_pk(status), index="GSI2", limit=limit, cursor=cursor
        )
    else:
        page = table.query(keys.SUBSCRIPTIONS_INDEX_PK, index="GSI1", limit=limit, cursor=cursor)
    return [Subscription.model_validate(_clean(i)) for i in page.items], page.next_cursor


# The marker an erased customer e-mail (name, phone) is replaced with (`keel/payments/payers.py`).
ERASED = "erased"
PAYER_FIELDS = ("customer_email", "customer_name", "customer_phone")


def _put_unless_changed(tx: Tx, item: dict[str, Any], attribute: str, previous: Any) -> None:
    """Creates the item, or replaces it while `attribute` still holds `previous` (optimistic lock);
    an item carrying an e-mail never lands over one whose e-mail a data request erased meanwhile
    (the writer reads again and keeps the marker)."""
    conflict = KeelError(ErrorCode.SAAS_011, "Concurrent change")
    if previous is None:
        tx.put(item, condition="attribute_not_exists(PK)", on_fail=conflict)
        return
    condition, values = f"{attribute} = :prev", {":prev": previous}
    if item.get("customer_email") not in (None, ERASED):
        condition += " AND (attribute_not_exists(customer_email) OR customer_email <> :erased)"
        values[":erased"] = ERASED
    tx.put(item, condition=condition, values=values, on_fail=conflict)


class BillingRepo:
    """One tenant's payments, invoices, refunds, subscription and billing events."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def _by_payer(self, sk: str, email: str | None) -> dict[str, str]:
        """The payer index entry (GSI2) of an item carrying a customer's e-mail (none once erased)."""
        if not email or email == ERASED:
            return {}
        return {"GSI2PK": keys.payer_email_index_pk(self.tenant_id, email), "GSI2SK": sk}

    def payer_items_of(self, email: str) -> list[dict[str, Any]]:
        """Every payment and invoice of the tenant carrying `email` (case-folded), as stored: one
        Query of the payer index (GSI2)."""
        return list(table.query_all(keys.payer_email_index_pk(self.tenant_id, email), index="GSI2"))

    def erase_payer_fields(self, tx: Tx, item: Mapping[str, Any]) -> None:
        """The customer's e-mail (name, phone) replaced by `ERASED`, the item off the payer index;
        amounts, ids, statuses and dates stay. Nothing is written for an item gone meanwhile."""
        present = [f for f in PAYER_FIELDS if item.get(f) is not None]
        names = {f"#p{n}": f for n, f in enumerate(present)}
        sets = ", ".join(f"{name} = :erased" for name in names)
        tx.update(
            item["PK"],
            item["SK"],
            (f"SET {sets} " if sets else "") + "REMOVE GSI2PK, GSI2SK",
            names=names or None,
            values={":erased": ERASED} if sets else None,
            condition="attribute_exists(PK)",
        )

    # payments -----------------------------------------------------------------------------
    def payment_item(self, payment_id: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.payment_sk(payment_id), consistent=True)

    def get_payment(self, payment_id: str) -> Payment:
        item = self.payment_item(payment_id)
        if item is None:
            raise not_found(Kind.PAYMENT)
        return Payment.model_validate(_clean(item))

    def put_payment(self, tx: Tx, payment: Payment, version: int, previous_version: int | None) -> None:
        """Writes the payment at `version`, only over the version read (an older event never wins)."""
        item = {
            "PK": self.pk,
            "SK": keys.payment_sk(payment.payment_id),
            "entity": "payment",
            "GSI1PK": keys.payments_index_pk(self.tenant_id),
            "GSI1SK": keys.created_sk(payment.created_at, payment.payment_id),
            **self._by_payer(keys.payment_sk(payment.payment_id), payment.customer_email),
            "version": version,
            "refundable": payment.amount - payment.amount_refunded
            if payment.status in ("succeeded", "partially_refunded")
            else 0,
            **payment.model_dump(mode="json", exclude={"decline"}),
        }
        _put_unless_changed(tx, item, "version", previous_version)

    def payments_page(
        self, limit: int, cursor: str | None, filters: dict[str, str]
    ) -> tuple[list[Payment], str | None]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (field, value) in enumerate(sorted(filters.items())):
            names[f"#f{i}"] = field
            values[f":f{i}"] = value
            parts.append(f"#f{i} = :f{i}")
        page = table.query(
            keys.payments_index_pk(self.tenant_id),
            index="GSI1",
            limit=limit,
            cursor=cursor,
            newest_first=True,
            filter_expression=" AND ".join(parts) or None,
            names=names or None,
            values=values or None,
        )
        return [Payment.model_validate(_clean(i)) for i in page.items], page.next_cursor

    def all_payments(self) -> list[Payment]:
        return [
            Payment.model_validate(_clean(i))
            for i in table.query_all(keys.payments_index_pk(self.tenant_id), index="GSI1")
        ]

    def reserve_refund(self, tx: Tx, payment_id: str, amount: int) -> None:
        """Takes `amount` off what is left to refund, or fails the transaction (never past what was paid)."""
        tx.update(
            self.pk,
            keys.payment_sk(payment_id),
            "SET refundable = refundable - :a",
            condition="attribute_exists(PK) AND refundable >= :a",
            values={":a": amount},
            on_fail=KeelError(
                ErrorCode.SAAS_052,
                "The refund is more than what is left to refund of this payment",
                details=[{"field": "amount", "message": "exceeds the refundable amount"}],
            ),
        )

    def give_back_refund(self, tx: Tx, payment_id: str, amount: int) -> None:
        tx.update(
            self.pk, keys.payment_sk(payment_id), "SET refundable = refundable + :a", values={":a": amount}
        )

    def settle_refund(self, tx: Tx, payment_id: str, amount: int, status: str) -> None:
        tx.update(
            self.pk,
            keys.payment_sk(payment_id),
            "SET amount_refunded = amount_refunded + :a, #s = :s, updated_at = :now",
            names={"#s": "status"},
            values={":a": amount, ":s": status, ":now": clock.iso()},
        )

    # refunds --------------------------------------------------------------------------------
    def get_refund(self, refund_id: str) -> Refund | None:
        item = table.get(self.pk, keys.refund_sk(refund_id), consistent=True)
        return Refund.model_validate(_clean(item)) if item else None

    def add_refund(self, tx: Tx, refund: Refund) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.refund_sk(refund.refund_id),
                "entity": "refund",
                **refund.model_dump(mode="json"),
            },
            condition="attribute_not_exists(PK)",
            on_fail=KeelError(ErrorCode.SAAS_011, "This refund is already under way"),
        )

    def set_refund(self, tx: Tx, refund_id: str, changes: dict[str, Any]) -> None:
        upd = updates({k: v for k, v in changes.items() if v is not None})
        tx.update(self.pk, keys.refund_sk(refund_id), upd.expression, names=upd.names, values=upd.values)

    # invoices -------------------------------------------------------------------------------
    def invoice_item(self, invoice_id: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.invoice_sk(invoice_id), consistent=True)

    def get_invoice(self, invoice_id: str) -> Invoice:
        item = self.invoice_item(invoice_id)
        if item is None:
            raise not_found(Kind.INVOICE)
        return Invoice.model_validate(_clean(item))

    def put_invoice(self, tx: Tx, invoice: Invoice, previous_updated_at: str | None) -> None:
        item = {
            "PK": self.pk,
            "SK": keys.invoice_sk(invoice.invoice_id),
            "entity": "invoice",
            "GSI1PK": keys.invoices_index_pk(self.tenant_id),
            "GSI1SK": keys.created_sk(invoice.created_at, invoice.invoice_id),
            **self._by_payer(keys.invoice_sk(invoice.invoice_id), invoice.customer_email),
            **invoice.model_dump(mode="json"),
        }
        _put_unless_changed(tx, item, "updated_at", previous_updated_at)

    def invoices_page(
        self, limit: int, cursor: str | None, status: str | None
    ) -> tuple[list[Invoice], str | None]:
        kwargs: dict[str, Any] = {}
        if status:
            kwargs = {"filter_expression": "#s = :s", "names": {"#s": "status"}, "values": {":s": status}}
        page = table.query(
            keys.invoices_index_pk(self.tenant_id),
            index="GSI1",
            limit=limit,
            cursor=cursor,
            newest_first=True,
            **kwargs,
        )
        return [Invoice.model_validate(_clean(i)) for i in page.items], page.next_cursor

    # subscriptions --------------------------------------------------------------------------
    def subscription_item(self, subscription_id: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.subscription_sk(subscription_id), consistent=True)

    def get_subscription(self, subscription_id: str) -> Subscription:
        item = self.subscription_item(subscription_id)
        if item is None:
            raise not_found(Kind.SUBSCRIPTION)
        return Subscription.model_validate(_clean(item))

    def subscription_version(self, subscription_id: str) -> int | None:
        item = self.subscription_item(subscription_id)
        return int(item.get("version", 0)) if item else None

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription.model_validate(_clean(i))
            for i in table.query_all(self.pk, sk_prefix=keys.SUBSCRIPTION_SK_PREFIX)
            if i.get("entity") == "subscription"
        ]

    def put_subscription(self, tx: Tx, sub: Subscription, version: int, previous_version: int | None) -> None:
        item = {
            "PK": self.pk,
            "SK": keys.subscription_sk(sub.subscription_id),
            "entity": "subscription",
            "GSI1PK": keys.SUBSCRIPTIONS_INDEX_PK,
            "GSI1SK": keys.created_sk(sub.created_at, sub.subscription_id),
            "GSI2PK": keys.subscriptions_status_index_pk(sub.status),
            "GSI2SK": keys.created_sk(sub.created_at, sub.subscription_id),
            "version": version,
            **sub.model_dump(mode="json"),
        }
        conflict = KeelError(ErrorCode.SAAS_011, "The subscription changed meanwhile; retry")
        if previous_version is None:
            tx.put(item, condition="attribute_not_exists(PK)", on_fail=conflict)
            if sub.gateway_subscription_id:
                tx.put(
                    {
                        "PK": keys.gateway_subscription_pk(sub.gateway, sub.gateway_subscription_id),
                        "SK": keys.GATEWAY_SUBSCRIPTION_SK,
                        "entity": "gateway_subscription",
                        "tenant_id": self.tenant_id,
                        "subscription_id": sub.subscription_id,
                    }
                )
        else:
            tx.put(item, condition="version = :prev", values={":prev": previous_version}, on_fail=conflict)

    # billing events ---------------------------------------------------------------------------
    def add_billing_event(self, tx: Tx, event: BillingEvent) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.billing_event_sk(event.at, event.billing_event_id),
                "entity": "billing_event",
                **event.model_dump(mode="json"),
            }
        )

    def billing_events_page(
        self, limit: int, cursor: str | None, kind_prefix: str | None
    ) -> tuple[list[BillingEvent], str | None]:
        kwargs: dict[str, Any] = {}
        if kind_prefix:
            kwargs = {"filter_expression": "begins_with(kind, :k)", "values": {":k": kind_prefix}}
        page = table.query(
            self.pk,
            sk_prefix=keys.BILLING_EVENT_SK_PREFIX,
            limit=limit,
            cursor=cursor,
            newest_first=True,
            **kwargs,
        )
        return [BillingEvent.model_validate(_clean(i)) for i in page.items], page.next_cursor


def for_tenant(tenant_id: str) -> BillingRepo:
    return BillingRepo(tenant_id)
