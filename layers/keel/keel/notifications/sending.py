"""Sending (notifications:send): one recipient now, an audience now or later; history and resends.

A single send writes the notification and its `notification.queued` event in one transaction
(the outbox), and answers 202: the delivery worker does the rest. A bulk send writes the send;
now, its `notification.bulk_requested` event goes with it; later, it waits in the due index for
the schedule. Cancelling is a conditional write on `scheduled`, so a cancelled send never starts
and a started one cannot be cancelled.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock, ids
from keel.core.errors import Kind, invalid, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import PLATFORM_TENANT, Principal
from keel.notifications import render, repo, rules
from keel.notifications.models import (
    BulkSendOut,
    BulkSendRequest,
    Channel,
    Content,
    Hop,
    NotificationOut,
    SendRequest,
)
from keel.store.change import Change


def _check_content(scoped: str, content: Content, channels: list[Channel]) -> None:
    if content.template:
        have = repo.for_tenant(scoped).template_names()
        missing = [c.value for c in channels if (content.template, c.value) not in have]
        if missing:
            raise invalid(
                "template", f"No template {content.template!r} for channel(s) " + ", ".join(missing)
            )
        return
    if not content.body:
        raise invalid("body", "Give a template, or a body")
    render.check(content.subject, field="subject")
    render.check(content.body, field="body")


def out(item: dict[str, Any]) -> NotificationOut:
    hops = item.get("hops") or {}
    return NotificationOut(
        notification_id=item["notification_id"],
        status=item["status"],
        user_id=item.get("user_id"),
        category=item["category"],
        channels=item["channels"],
        hops=[Hop.model_validate(hops[c]) for c in item["channels"] if c in hops],
        source=item.get("source"),
        created_at=item["created_at"],
        updated_at=item.get("updated_at"),
    )


def _queue(principal: Principal, scoped: str, data: dict[str, Any], action: str) -> NotificationOut:
    change = Change(principal)
    repo.for_tenant(scoped).add_notification(change.tx, data)
    change.emit(
        "notification.queued",
        {"tenant_id": scoped, "notification_id": data["notification_id"]},
        tenant_id=scoped,
    )
    change.audit(
        action,
        tenant_id=scoped,
        target_type="notification",
        target_id=data["notification_id"],
        details={"channels": data["channels"], "user_id": data.get("user_id"), "category": data["category"]},
    )
    change.commit()
    return out(data)


def send(principal: Principal, tenant_id: str | None, body: SendRequest) -> NotificationOut:
    principal.require(Permission.NOTIFICATIONS_SEND)
    scoped = principal.tenant_scope(tenant_id)
    recipient: dict[str, Any] = {}
    if body.user_id:
        from keel.users import repo as users

        if users.for_tenant(scoped).get(body.user_id) is None:
            raise not_found(Kind.USER)
        recipient["user_id"] = body.user_id
    if body.email:
        from keel.core.email import normalise

        try:
            recipient["email"] = normalise(body.email)
        except ValueError as exc:
            raise invalid("email", "Not an e-mail address") from exc
    if body.phone:
        from keel.security.sms import normalise as e164

        recipient["phone"] = e164(body.phone, "phone")
    if not recipient:
        raise invalid("user_id", "Give a user_id, an email or a phone")
    if Channel.IN_APP in body.channels and not body.user_id:
        raise invalid("channels", "In-app messages need a user_id")
    _check_content(scoped, body, body.channels)
    data = rules.notification(
        scoped,
        recipient,
        channels=[c.value for c in body.channels],
        category=body.category.value,
        content=Content.model_validate(body.model_dump(include=set(Content.model_fields))).model_dump(
            mode="json", exclude_none=True
        ),
        source=f"send:{principal.actor}",
        urgent=body.urgent,
    )
    return _queue(principal, scoped, data, "notification.send")


def send_bulk(principal: Principal, tenant_id: str | None, body: BulkSendRequest) -> BulkSendOut:
    principal.require(Permission.NOTIFICATIONS_SEND)
    scoped = principal.tenant_scope(tenant_id)
    audience = body.audience
    if audience.kind in {"tenant", "plan"} and scoped != PLATFORM_TENANT:
        raise invalid("audience.kind", "Sending to tenants or plans is for platform staff; use all or role")
    if audience.kind == "role" and not audience.roles:
        raise invalid("audience.roles", "Name at least one role")
    if audience.kind == "role":
        from keel.roles.service import find

        for i, role in enumerate(audience.roles):
            if find(scoped, role) is None:
                raise invalid(f"audience.roles.{i}", f"Unknown role {role!r}")
    if audience.kind == "plan":
        from keel.plans import repo as plans

        unknown = set(audience.plans) - plans.plan_ids()
        if not audience.plans or unknown:
            raise invalid(
                "audience.plans",
                "Unknown plan(s): " + ", ".join(sorted(unknown)) if unknown else "Name a plan",
            )
    if audience.kind == "tenant" and not audience.tenant_ids:
        raise invalid("audience.tenant_ids", "Name at least one tenant")
    if audience.kind == "users" and not audience.user_ids:
        raise invalid("audience.user_ids", "Name at least one user")
    if body.send_at and clock.parse(body.send_at) <= clock.now():
        raise invalid("send_at", "send_at must be in the future (leave it out to send now)")
    if body.template and audience.kind in {"tenant", "plan"}:
        raise invalid("template", "Sends across tenants take a subject and body (tenants' templates differ)")
    _check_content(scoped, body, body.channels)
    now = clock.iso()
    send = BulkSendOut(
        send_id=ids.new_id("nsd"),
        status="scheduled" if body.send_at else "enqueued",
        audience=audience,
        channels=body.channels,
        category=body.category,
        send_at=body.send_at,
        created_at=now,
        created_by=principal.actor,
    )
    content = Content.model_validate(body.model_dump(include=set(Content.model_fields))).model_dump(
        mode="json", exclude_none=True
    )
    change = Change(principal)
    repo.for_tenant(scoped).add_send(change.tx, {**send.model_dump(mode="json"), "content": content})
    if not body.send_at:
        change.emit(
            "notification.bulk_requested", {"tenant_id": scoped, "send_id": send.send_id}, tenant_id=scoped
        )
    change.audit(
        "notification.bulk_send",
        tenant_id=scoped,
        target_type="notification_send",
        target_id=send.send_id,
        details={"audience": audience.model_dump(mode="json"), "send_at": body.send_at},
    )
    change.commit()
    return send


def list_scheduled(
    principal: Principal, tenant_id: str | None, limit: int, cursor: str | None
) -> Page[BulkSendOut]:
    principal.require(Permission.NOTIFICATIONS_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).scheduled(limit, cursor)
    return Page[BulkSendOut](items=[BulkSendOut.model_validate(i) for i in items], next_cursor=next_cursor)


def cancel_scheduled(principal: Principal, tenant_id: str | None, send_id: str) -> BulkSendOut:
    principal.require(Permission.NOTIFICATIONS_SEND)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    current = store.send(send_id)
    change = Change(principal)
    store.close_send(change.tx, send_id, "cancelled", principal.actor, clock.iso())
    change.audit("notification.cancel", tenant_id=scoped, target_type="notification_send", target_id=send_id)
    change.commit()
    return BulkSendOut.model_validate({**current, "status": "cancelled"})


def history(
    principal: Principal,
    tenant_id: str | None,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    channel: str | None,
    user_id: str | None,
) -> Page[NotificationOut]:
    principal.require(Permission.NOTIFICATIONS_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).history(
        limit, cursor, status=status, channel=channel, user_id=user_id
    )
    return Page[NotificationOut](items=[out(i) for i in items], next_cursor=next_cursor)


def resend(principal: Principal, tenant_id: str | None, notification_id: str) -> NotificationOut:
    """The same recipient, channels and content again, as a new notification."""
    principal.require(Permission.NOTIFICATIONS_SEND)
    scoped = principal.tenant_scope(tenant_id)
    past = repo.for_tenant(scoped).notification(notification_id)
    data = rules.notification(
        scoped,
        {k: past.get(k) for k in ("user_id", "email", "phone")},
        channels=past["channels"],
        category=past["category"],
        content=past.get("content") or {},
        source=f"resend:{notification_id}",
        event=past.get("event"),
        urgent=bool(past.get("urgent")),
        extra={"resend_of": notification_id},
    )
    return _queue(principal, scoped, data, "notification.resend")
