"""A fake of the gateways' HTTP APIs on loopback (Stripe and Nomba), for tests and `make dev`.

The real clients (`stripe`, `requests`) talk to it through `stripe_api_base` / `nomba_api_base`
in the app secret. It keeps what the code relies on: Stripe refunds (replaying the answer of an
Idempotency-Key, as Stripe does), subscriptions (retrieve, update, cancel), balance; Nomba's token
and refunds. `PUT /_fake/stripe/subscriptions/<id>` sets a subscription's state (drift), and
`GET /_fake/state` shows what was asked.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refunds: list[dict[str, Any]] = []
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.nomba_refunds: list[dict[str, Any]] = []
        self.requests: list[str] = []


def _flat(form: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in form.items()}


class Handler(BaseHTTPRequestHandler):
    state: FakeState

    def log_message(self, *args: Any) -> None:  # noqa: ARG002  (quiet)
        return

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> tuple[dict[str, Any], str]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            return (json.loads(raw) if raw else {}), raw
        return _flat(parse_qs(raw)), raw

    def do_GET(self) -> None:
        s = self.state
        with s.lock:
            s.requests.append(f"GET {self.path}")
            if self.path == "/_fake/state":
                return self._send(
                    200,
                    {
                        "refunds": s.refunds,
                        "nomba_refunds": s.nomba_refunds,
                        "subscriptions": s.subscriptions,
                        "requests": s.requests,
                    },
                )
            if self.path.startswith("/v1/balance"):
                return self._send(200, {"object": "balance", "livemode": False, "available": []})
            if self.path.startswith("/v1/subscriptions/"):
                sub = s.subscriptions.get(self.path.rsplit("/", 1)[-1])
                if sub is None:
                    return self._send(
                        404, {"error": {"type": "invalid_request_error", "message": "No such subscription"}}
                    )
                return self._send(200, sub)
        return self._send(404, {"error": {"type": "invalid_request_error", "message": "unknown path"}})

    def do_PUT(self) -> None:
        body, _ = self._body()
        with self.state.lock:
            if self.path.startswith("/_fake/stripe/subscriptions/"):
                sid = self.path.rsplit("/", 1)[-1]
                sub = self.state.subscriptions.setdefault(sid, {"id": sid, "object": "subscription"})
                sub.update(body)
                return self._send(200, sub)
        return self._send(404, {})

    def do_DELETE(self) -> None:
        with self.state.lock:
            if self.path.startswith("/v1/subscriptions/"):
                sub = self.state.subscriptions.get(self.path.rsplit("/", 1)[-1])
                if sub is None:
                    return self._send(
                        404, {"error": {"type": "invalid_request_error", "message": "No such subscription"}}
                    )
                sub.update(status="canceled", cancel_at_period_end=False)
                return self._send(200, sub)
        return self._send(404, {})

    def do_POST(self) -> None:
        body, _ = self._body()
        s = self.state
        key = self.headers.get("Idempotency-Key") or self.headers.get("X-Idempotent-Key")
        with s.lock:
            s.requests.append(f"POST {self.path}")
            if key and f"{self.path}:{key}" in s.idempotent:
                return self._send(200, s.idempotent[f"{self.path}:{key}"])
            if self.path == "/v1/refunds":
                refund = {
                    "id": f"re_fake{len(s.refunds) + 1}",
                    "object": "refund",
                    "status": "succeeded",
                    "amount": int(body.get("amount") or 0),
                    "payment_intent": body.get("payment_intent"),
                }
                s.refunds.append(refund)
                answer: dict[str, Any] = refund
            elif self.path.startswith("/v1/subscriptions/"):
                sub = s.subscriptions.get(self.path.rsplit("/", 1)[-1])
                if sub is None:
                    return self._send(
                        404, {"error": {"type": "invalid_request_error", "message": "No such subscription"}}
                    )
                if "cancel_at_period_end" in body:
                    sub["cancel_at_period_end"] = str(body["cancel_at_period_end"]).lower() == "true"
                answer = sub
            elif self.path == "/v1/auth/token/issue":
                answer = {
                    "code": "00",
                    "data": {"access_token": "fake-nomba-token", "expiresAt": "2099-01-01T00:00:00Z"},
                }
            elif self.path == "/v1/transactions/refund":
                if self.headers.get("Authorization") != "Bearer fake-nomba-token":
                    return self._send(401, {"code": "401", "description": "unauthorised"})
                refund = {"refundId": f"nrf_{len(s.nomba_refunds) + 1}", **body}
                s.nomba_refunds.append(refund)
                answer = {"code": "00", "data": refund}
            else:
                return self._send(
                    404, {"error": {"type": "invalid_request_error", "message": "unknown path"}}
                )
            if key:
                s.idempotent[f"{self.path}:{key}"] = answer
            return self._send(200, answer)


class FakeGateways:
    def __init__(self) -> None:
        self.state = FakeState()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-gateways", daemon=True)

    def start(self) -> FakeGateways:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
