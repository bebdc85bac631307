"""Checkout's reactions to Stripe events, registered with the payments area's dispatch point.

The gateway-events worker imports this module (`keel.payments.gateway_handlers.MODULES`): a signed
`checkout.session.completed` turns its hold into a registration, `checkout.session.expired` gives
the hold's seats back, each once whatever the number of deliveries.
"""

from __future__ import annotations

from typing import Any

from keel.checkout import stripe_events
from keel.payments import gateway_handlers


@gateway_handlers.on("checkout.session.completed")
def completed(event_id: str, session: dict[str, Any]) -> None:
    stripe_events.session_completed(event_id, session)


@gateway_handlers.on("checkout.session.expired")
def expired(event_id: str, session: dict[str, Any]) -> None:
    stripe_events.session_expired(event_id, session)
