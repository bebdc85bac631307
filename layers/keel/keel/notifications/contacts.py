"""Messages to contacts who are not users (a city's staff, a customer): the notifications area's
domain API for other areas' workers.

`notify_contact` writes one notification (an e-mail address and/or a phone, ordered channels
tried with fallback, a category) with its `notification.queued` event and a marker keyed by the
caller's idempotency key, in one transaction: a second call with the same key writes nothing and
answers the first notification's id. Delivery is the notifier's, as for every notification: the
tenant's channels (Twilio credentials, limits, suppressed addresses), hops in the history,
receipts. The text is data, never a template: a customer's name cannot inject Liquid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keel.core.errors import KeelError
from keel.core.principal import Principal
from keel.notifications import repo, rules
from keel.notifications.models import Category, Channel
from keel.store.change import Change

BODY = "{{ data.text }}"
SUBJECT = "{{ data.subject }}"


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None  # E.164


def notify_contact(
    tenant_id: str,
    contact: Contact,
    *,
    channels: Sequence[Channel],
    text: str,
    key: str,
    subject: str | None = None,
    category: Category = Category.TRANSACTIONAL,
    source: str,
) -> str:
    """Queues `text` for `contact` through `channels` in order, once per `key`; the notification id."""
    if not (contact.email or contact.phone):
        raise ValueError("a contact needs an e-mail address or a phone")
    store = repo.for_tenant(tenant_id)
    content = {"body": BODY, "data": {"text": text, "subject": subject or ""}}
    if subject:
        content["subject"] = SUBJECT
    data = rules.notification(
        tenant_id,
        {"email": contact.email, "phone": contact.phone},
        channels=[Channel(c).value for c in channels],
        category=Category(category).value,
        content=content,
        source=source,
    )
    change = Change(Principal.system(tenant_id, source))
    store.add_notification(change.tx, data, once=store.once_key(f"contact:{key}", "-"))
    change.emit(
        "notification.queued",
        {"tenant_id": tenant_id, "notification_id": data["notification_id"]},
        tenant_id=tenant_id,
    )
    try:
        change.commit()
    except KeelError:
        found = store.once(f"contact:{key}", "-")
        if found is None:
            raise
        return found
    return str(data["notification_id"])
