"""What the checkout notifier sends for each checkout event (each event applied once by its worker).

- `checkout.sold` / `checkout.oversold`: an SMS to each of the city's staff numbers (Twilio); when
  SMS fails or is not configured, or the event has no numbers, the alert goes by e-mail to the
  staff addresses instead ("SMS fallback alert", guide 003).
- `checkout.oversold_notice`: the customer is told by e-mail, and by SMS when they gave a number.
Messages name the city, tier and quantity; customer details stay out of staff SMS and of logs.
"""

from __future__ import annotations

from collections.abc import Callable

from keel.checkout import repo
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.mail.sender import Mail, send
from keel.store.outbox import DomainEvent


def _sms(to: str, body: str) -> bool:
    from keel.security import sms

    try:
        sms.send(to, body)
        return True
    except KeelError as exc:
        logger.warning("alert sms not sent", extra={"to": sms.masked(to), "code": exc.code.name})
        return False


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
    failed = [p for p in details.get("staff_phones", []) if not _sms(p, text)]
    if failed or not details.get("staff_phones"):
        for address in details.get("staff_emails", []):
            send(Mail(to=address, subject="SMS Fallback Alert: " + text.split(":", 1)[0], text=text))
    logger.info("staff alerted", extra={"event_type": event.type, "sms_failed": len(failed)})


def oversold_notice(event: DomainEvent) -> None:
    data = event.data
    registration = repo.for_tenant(event.tenant_id).registration(data["city_id"], data["registration_id"])
    if registration is None:
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
    send(Mail(to=registration["email"], subject=f"About your tickets for {name}", text=text))
    if registration.get("phone"):
        _sms(
            registration["phone"],
            f"{name}: your tickets were paid after the event sold out. We have e-mailed you the options.",
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
