"""The dispatch point for gateway events: event type -> handler `(event_id, obj) -> None`.

Any area that reacts to a gateway's events registers here, in a module listed in `MODULES`
(imported by the gateway-events worker before it dispatches):

    from keel.payments import gateway_handlers

    @gateway_handlers.on("checkout.session.completed")
    def completed(event_id: str, obj: dict) -> None: ...

`obj` is the event's object (Stripe: `data.object`; Nomba: `data`). The worker calls a handler
once per event id (a duplicate delivery never reaches it), but a handler that crashed is called
again for the same event, so its writes must be conditional (idempotent); `event_created()`
gives the event's own time (epoch seconds) to compare with the stored state, since events
arrive out of order. Types nobody registered are stored and ignored.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

Handler = Callable[[str, dict[str, Any]], None]

# Modules that register handlers (this area's own, and other areas' that react to gateway events).
MODULES = ("keel.payments.handlers", "keel.checkout.gateway")

_HANDLERS: dict[tuple[str, str], Handler] = {}
_created: ContextVar[int] = ContextVar("gateway_event_created", default=0)
_loaded = False


def on(event_type: str, *, gateway: str = "stripe") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        register_handler(event_type, fn, gateway=gateway)
        return fn

    return register


def register_handler(event_type: str, fn: Handler, *, gateway: str = "stripe") -> None:
    key = (gateway, event_type)
    if key in _HANDLERS and _HANDLERS[key] is not fn:
        raise RuntimeError(f"{gateway} {event_type} already has a handler")
    _HANDLERS[key] = fn


def load() -> None:
    """Imports every registering module (once per process)."""
    global _loaded  # noqa: PLW0603 - the registry is process state by design
    if _loaded:
        return
    for name in MODULES:
        importlib.import_module(name)
    _loaded = True


def handler_for(gateway: str, event_type: str) -> Handler | None:
    load()
    return _HANDLERS.get((gateway, event_type))


def registered() -> list[tuple[str, str]]:
    load()
    return sorted(_HANDLERS)


def event_created() -> int:
    """The event being dispatched: its own timestamp (epoch seconds)."""
    return _created.get()


def dispatch(gateway: str, event_type: str, event_id: str, obj: dict[str, Any], created: int) -> bool:
    """Runs the handler of a type; False when there is none (the event is ignored)."""
    fn = handler_for(gateway, event_type)
    if fn is None:
        return False
    token = _created.set(created)
    try:
        fn(event_id, obj)
    finally:
        _created.reset(token)
    return True
