"""Gateway webhooks (public): the signature is checked on the raw body before anything else; the
delivery is stored and queued, and the gateway gets its 2xx at once."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)
from keel.core.coldstart import before_snapshot

import base64
import importlib

from keel.http import create_app, entrypoint, public
from keel.http.request import request_meta
from keel.payments import receive
from keel.payments.models import Received

app = create_app()
before_snapshot(lambda: importlib.import_module("stripe"))  # SnapStart: not imported by the first event


def _raw() -> bytes:
    event = app.current_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode()


def _receive(gateway: str) -> Received:
    return receive.receive(gateway, _raw(), dict(app.current_event.headers or {}), request_meta(app).ip)  # type: ignore[arg-type]


@app.post("/webhooks/stripe", operation_id="stripe_webhook", middlewares=[public()], tags=["payments"])
def stripe_webhook() -> Received:
    return _receive("stripe")


@app.post("/webhooks/nomba", operation_id="nomba_webhook", middlewares=[public()], tags=["payments"])
def nomba_webhook() -> Received:
    return _receive("nomba")


lambda_handler = entrypoint(app)
