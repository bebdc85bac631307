"""Registrations (paid, per city), the oversold ones, and telling oversold customers once."""

from __future__ import annotations

from keel.checkout import repo
from keel.checkout.models import NotifyResult, RegistrationOut
from keel.core.errors import ErrorCode, KeelError
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store.change import Change


def list_registrations(
    principal: Principal, tenant_id: str | None, city_id: str, limit: int, cursor: str | None
) -> Page[RegistrationOut]:
    principal.require(Permission.EVENTS_READ)
    checkout = repo.for_tenant(principal.tenant_scope(tenant_id))
    checkout.event_with_counters(city_id)
    page = checkout.registrations(city_id, limit, cursor)
    return Page[RegistrationOut](
        items=[RegistrationOut.model_validate(i) for i in page.items], next_cursor=page.next_cursor
    )


def list_oversold(
    principal: Principal, tenant_id: str | None, city_id: str, limit: int, cursor: str | None
) -> Page[RegistrationOut]:
    principal.require(Permission.EVENTS_READ)
    checkout = repo.for_tenant(principal.tenant_scope(tenant_id))
    checkout.event_with_counters(city_id)
    page = checkout.oversold(city_id, limit, cursor)
    return Page[RegistrationOut](
        items=[RegistrationOut.model_validate(i) for i in page.items], next_cursor=page.next_cursor
    )


def notify_oversold(principal: Principal, tenant_id: str | None, city_id: str) -> NotifyResult:
    """One message to each oversold customer, however often this is called (or concurrently): the
    "notified" marker is set with a condition in the same transaction as the message's event."""
    principal.require(Permission.EVENTS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    checkout = repo.for_tenant(scoped)
    checkout.event_with_counters(city_id)
    told = already = 0
    for item in checkout.all_oversold(city_id):
        if item.get("notified_at"):
            already += 1
            continue
        change = Change(principal)
        checkout.mark_notified(
            change.tx, city_id, item["registration_id"], on_fail=KeelError(ErrorCode.SAAS_011, "already told")
        )
        payload = {
            "city_id": city_id,
            "registration_id": item["registration_id"],
            "tier": item["tier"],
            "quantity": int(item["quantity"]),
        }
        change.emit("checkout.oversold_notice", payload, tenant_id=scoped)
        change.audit(
            "checkout.oversold_notify",
            event_type="oversold_customer_notified",
            tenant_id=scoped,
            target_type="registration",
            target_id=item["registration_id"],
            details={"city_id": city_id},
        )
        try:
            change.commit()
            told += 1
        except KeelError as exc:
            if exc.code is not ErrorCode.SAAS_011:
                raise
            already += 1  # another call told them first
    return NotifyResult(notified=told, already_notified=already)
