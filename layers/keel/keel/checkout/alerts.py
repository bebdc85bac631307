"""What the checkout notifier sends for each checkout event (each event applied once by its worker),
through the notifications area (`keel.notifications.contacts`: the tenant's channels, fallback,
history, receipts; one notification per contact and event, whatever the redeliveries).

- `checkout.sold` / `checkout.oversold`: each of the city's staff numbers gets an SMS; when it fails
  (not a mobile, refused, SMS not configured), the alert goes by e-mail to the staff address paired
  with it ("SMS fallback alert", guide 003). Staff addresses without a number get the e-mail.
- `checkout.oversold_notice`: the customer is told by e-mail, and by SMS when they gave a number.
Messages name the city, tier and quantity; customer details stay out of staff SMS and of logs.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import zip_longest

from keel.checkout import repo
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.notifications.contacts import Contact, notify_contact
from keel.notifications.models import Category, Channel
from keel.store.outbox import DomainEvent

SOURCE = "checkout-notifier"


def staff_alert(event: DomainEvent) -> None:
    data = event.data
    checkout = repo.for_tenant(event.tenant_id)
    try:
        details, counters = checkout.event_with_counters(data["city_id"])
    except KeelError:
        logger.warning("alert for an unknown event", extra={"city_id": data["city_id"]})
        return
    counter = counters.get(data["tier"], {})
    oversold = event.type == "checkout.oversold"
    registration = checkout.registration(data["city_id"], data["registration_id"])
    if registration is None or (registration["status"] == "oversold") != oversold:
        # fresh state decides: an event of a transaction that did not commit (which only an
        # emulator's stream can show) alerts nobody
        logger.warning("alert without its registration", extra={"registration_id": data["registration_id"]})
        return
    text = (
        f"{'OVERSOLD' if oversold else 'Sale'}: {data['quantity']} {data['tier']} for {details['name']} "
        f"({data['city_id']}), registration {data['registration_id']}. "
        f"{data['tier']} sold {counter.get('sold', 0)} of {counter.get('actual_limit', 0)}, "
        f"{counter.get('remaining', 0)} left."
    )
    subject = "SMS Fallback Alert: " + text.split(":", 1)[0]
    staff = list(zip_longest(details.get("staff_phones", []), details.get("staff_emails", [])))
    for n, (phone, email) in enumerate(staff):
        notify_contact(
            event.tenant_id,
            Contact(email=email, phone=phone),
            channels=[Channel.SMS, Channel.EMAIL] if phone else [Channel.EMAIL],
            text=text,
            subject=subject,
            category=Category.ALERTS,
            key=f"{event.id}:staff:{n}",
            source=SOURCE,
        )
    logger.info("staff alerts queued", extra={"event_type": event.type, "contacts": len(staff)})


def oversold_notice(event: DomainEvent) -> None:
    data = event.data
    registration = repo.for_tenant(event.tenant_id).registration(data["city_id"], data["registration_id"])
    if registration is None or not registration.get("email"):
        # gone, or its buyer's contact data erased (retention or a data request): no one to write to
        logger.info(
            "oversold customer not told: no contact data", extra={"registration_id": data["registration_id"]}
        )
        return
    try:
        details, _ = repo.for_tenant(event.tenant_id).event_with_counters(data["city_id"])
        name = details["name"]
    except KeelError:
        name = data["city_id"]
    text = (
        f"Hello {registration['first_name']},\n\nWe are sorry: your {registration['quantity']} "
        f"{registration['tier']} ticket(s) for {name} were paid after the event sold out. "
        "We will contact you within one business day with a seat at this event or a full refund, "
        f"as you prefer.\n\nYour registration: {registration['registration_id']}\n"
    )
    notify_contact(
        event.tenant_id,
        Contact(email=registration["email"]),
        channels=[Channel.EMAIL],
        text=text,
        subject=f"About your tickets for {name}",
        key=f"{event.id}:customer:email",
        source=SOURCE,
    )
    if registration.get("phone"):
        notify_contact(
            event.tenant_id,
            Contact(phone=registration["phone"]),
            channels=[Channel.SMS],
            text=f"{name}: your tickets were paid after the event sold out. "
            "We have e-mailed you the options.",
            key=f"{event.id}:customer:sms",
            source=SOURCE,
        )


HANDLERS: dict[str, Callable[[DomainEvent], None]] = {
    "checkout.sold": staff_alert,
    "checkout.oversold": staff_alert,
    "checkout.oversold_notice": oversold_notice,
}


def handle(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.warning("no checkout alert for event type", extra={"event_type": event.type})
        return
    handler(event)
