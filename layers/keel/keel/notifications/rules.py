"""Rules: which domain events notify whom, through which channels, with which template.

The rules worker is subscribed to `TRIGGERS` (its SNS filter policy lists exactly these): a rule
may only name one of them (422 otherwise). Each (event, rule, recipient) makes one notification,
guarded by a marker written in the same transaction, so a redelivered event notifies nobody twice.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock, ids
from keel.core.errors import KeelError
from keel.core.principal import Principal
from keel.notifications import repo
from keel.store.change import Change
from keel.store.outbox import DomainEvent

# The events a rule can be triggered by (the rules worker's filter policy).
TRIGGERS = frozenset(
    {
        "tenant.created",
        "tenant.updated",
        "user.created",
        "user.updated",
        "user.email_changed",
        "user.role_changed",
        "user.suspended",
        "user.unsuspended",
        "auth.password_changed",
        "auth.two_factor_changed",
        "role.created",
        "role.updated",
        "invitation.accepted",
    }
)


def _value(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def matches(rule: dict[str, Any], event: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether the event passes every condition (and the first that fails)."""
    for cond in rule.get("conditions") or []:
        value, wanted, op = _value(event, cond["field"]), cond.get("value"), cond.get("op", "eq")
        if op == "eq":
            ok = value == wanted
        elif op == "ne":
            ok = value != wanted
        elif op == "in":
            ok = isinstance(wanted, list) and value in wanted
        else:
            ok = value is not None
        if not ok:
            return False, f"condition {cond['field']} {op} {wanted!r} is false ({value!r})"
    return True, None


def recipients(rule: dict[str, Any], tenant_id: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each recipient once: {key, user_id} or {key, email} or {key, phone}."""
    from keel.users import repo as users
    from keel.users.models import UserStatus

    wanted = rule.get("recipients") or {}
    out: dict[str, dict[str, Any]] = {}
    if wanted.get("subject", True) and data.get("user_id"):
        out[data["user_id"]] = {"key": data["user_id"], "user_id": data["user_id"]}
    roles = set(wanted.get("roles") or [])
    if roles:
        for user in users.for_tenant(tenant_id).every():
            if user.role in roles and user.status == UserStatus.ACTIVE:
                out.setdefault(user.user_id, {"key": user.user_id, "user_id": user.user_id})
    for email in wanted.get("emails") or []:
        out.setdefault(email, {"key": email, "email": email})
    for phone in wanted.get("phones") or []:
        out.setdefault(phone, {"key": phone, "phone": phone})
    return list(out.values())


def notification(
    tenant_id: str,
    recipient: dict[str, Any],
    *,
    channels: list[str],
    category: str,
    content: dict[str, Any],
    source: str,
    event: dict[str, Any] | None = None,
    urgent: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new notification as stored (queued, no hop yet)."""
    now = clock.iso()
    data = {
        "notification_id": ids.new_id("ntf"),
        "tenant_id": tenant_id,
        "user_id": recipient.get("user_id"),
        "email": recipient.get("email"),
        "phone": recipient.get("phone"),
        "channels": list(channels),
        "category": category,
        "urgent": urgent,
        "content": content,
        "event": event or {},
        "source": source,
        "status": "queued",
        "hops": {},
        "created_at": now,
        "updated_at": now,
        **(extra or {}),
    }
    return {k: v for k, v in data.items() if v is not None}


def on_event(event: DomainEvent) -> int:
    """The rules worker: every matching active rule of the event's tenant, each recipient once."""
    tenant_id = event.tenant_id
    store = repo.for_tenant(tenant_id)
    view = {"type": event.type, "tenant_id": tenant_id, "data": event.data}
    made = 0
    for rule in store.rules():
        if rule.get("trigger") != event.type or not rule.get("active", True) or not matches(rule, view)[0]:
            continue
        for recipient in recipients(rule, tenant_id, event.data):
            made += _queue_once(tenant_id, rule, recipient, event)
    return made


def _queue_once(tenant_id: str, rule: dict[str, Any], recipient: dict[str, Any], event: DomainEvent) -> int:
    data = notification(
        tenant_id,
        recipient,
        channels=rule["channels"],
        category=rule.get("category", "alerts"),
        content={"template": rule["template"]},
        source=f"rule:{rule['rule_id']}",
        event=event.data,
        extra={"rule_id": rule["rule_id"], "event_id": event.id, "event_type": event.type},
    )
    store = repo.for_tenant(tenant_id)
    change = Change(Principal.system(tenant_id, "notification-rules"))
    store.add_notification(
        change.tx, data, once=store.once_key(f"{event.id}.{rule['rule_id']}", recipient["key"])
    )
    change.emit(
        "notification.queued",
        {"tenant_id": tenant_id, "notification_id": data["notification_id"]},
        tenant_id=tenant_id,
    )
    try:
        change.commit()
    except KeelError:
        return 0  # this event already notified this recipient under this rule
    return 1
