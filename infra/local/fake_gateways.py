"""The one fake of the gateways' HTTP APIs on loopback (Stripe and Nomba), for tests, `make dev`
and the benchmarks.

The real clients (`stripe`, `requests`) talk to it through `stripe_api_base` / `nomba_api_base`
in the app secret. It keeps what the code relies on, replaying the answer of a repeated
Idempotency-Key as Stripe does: Stripe refunds, subscriptions (retrieve, update with a switch of
an item's price, cancel), balance,
Checkout Sessions (create, retrieve, expire; their `url` is a page of this fake naming the command
that completes them); Nomba's token and refunds. For tests and local tools:
`PUT /_fake/stripe/subscriptions/<id>` sets a subscription's state (drift),
`PUT /_fake/stripe/prices/<id>` `{"lookup_key": ...}` adds a price (`price_starter`,
`price_professional` and `price_enterprise` exist from the start, their lookup keys the plans'),
`POST /_fake/stripe/checkout/sessions/<id>/complete` marks a session paid and answers it as
`checkout.session.completed` carries it, `PUT /_fake/stripe/outage` `{"down": true}` makes Stripe
answer 500, `PUT /_fake/stripe/lost-answers` `{"count": n}` makes the next n Stripe POSTs act but
answer 500 (a lost answer), and `GET /_fake/state` shows what was asked.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NOMBA_PATHS = ("/v1/auth/token/issue", "/v1/transactions/refund")
STRIPE_DOWN = {"error": {"type": "api_error", "message": "Stripe is down (fake outage)"}}
LOST_ANSWER = {"error": {"type": "api_error", "message": "The answer was lost (fake)"}}
PLAN_PRICES = ("starter", "professional", "enterprise")  # the default plans: price_<plan>


def new_price(price_id: str, lookup_key: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": price_id,
        "object": "price",
        "active": True,
        "lookup_key": lookup_key,
        "metadata": {},
        **extra,
    }


class FakeState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refunds: list[dict[str, Any]] = []
        self.idempotent: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.nomba_refunds: list[dict[str, Any]] = []
        self.sessions: dict[str, dict[str, Any]] = {}  # Checkout Sessions, in creation order
        self.session_keys: list[str] = []  # the Idempotency-Key of each session created
        self.stripe_down = False
        self.requests: list[str] = []
        self.prices = {f"price_{p}": new_price(f"price_{p}", p) for p in PLAN_PRICES}
        self.price_switches: list[dict[str, Any]] = []  # each subscription update that switched a price
        self.lost_answers = 0  # Stripe POSTs done but answered 500, as when the answer never arrives


def _flat(form: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in form.items()}


def form_fields(raw: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts (list indexes as keys)."""
    out: dict[str, Any] = {}
    for raw_key, values in parse_qs(raw).items():
        parts = raw_key.replace("]", "").split("[")
        node: Any = out
        for part, nxt in zip(parts, [*parts[1:], None], strict=True):
            if nxt is None:
                node[part] = values[0]
            else:
                node = node.setdefault(part, {})
    return out


def _new_session(form: dict[str, Any], n: int, base: str) -> dict[str, Any]:
    item = (form.get("line_items") or {}).get("0") or {}
    price = item.get("price_data") or {}
    sid = f"cs_test_fake{n:06d}"
    return {
        "id": sid,
        "object": "checkout.session",
        "url": f"{base}/c/pay/{sid}",
        "mode": form.get("mode", "payment"),
        "amount_total": int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1),
        "currency": price.get("currency", "usd"),
        "customer_email": form.get("customer_email"),
        "client_reference_id": form.get("client_reference_id"),
        "expires_at": int(form.get("expires_at") or 0) or None,
        "metadata": form.get("metadata") or {},
        "success_url": form.get("success_url"),
        "cancel_url": form.get("cancel_url"),
        "livemode": False,
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": "open",
    }


def _no_such(what: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": f"No such {what}"}}


def checkout_sessions(  # noqa: PLR0911 - a router: one return per path and outcome
    s: FakeState, method: str, path: str, raw: str, key: str | None, host: str
) -> tuple[int, dict[str, Any]] | None:
    """Stripe's Checkout Sessions (and the test hook that pays one); None: not a session path.
    The caller holds the lock. Stripe's other paths answer 500 too while an outage is on."""
    if s.stripe_down and path.startswith("/v1/") and path not in NOMBA_PATHS:
        return 500, STRIPE_DOWN
    if method == "POST" and key and f"{path}:{key}" in s.idempotent:
        return None  # the caller replays the first answer
    parts = path.strip("/").split("/")
    if path == "/v1/checkout/sessions" and method == "POST":
        created = _new_session(form_fields(raw), len(s.sessions), host)
        s.sessions[created["id"]] = created
        s.session_keys.append(key or "")
        if key:
            s.idempotent[f"{path}:{key}"] = created
        return 200, created
    if parts[:3] == ["v1", "checkout", "sessions"] and len(parts) >= 4:
        session = s.sessions.get(parts[3])
        if session is None:
            return 404, _no_such("checkout session")
        if method == "GET":
            return 200, session
        if parts[4:] == ["expire"]:
            if session["status"] != "open":
                message = f"Only an open session can be expired; this one is {session['status']}"
                return 400, {"error": {"type": "invalid_request_error", "message": message}}
            session.update(status="expired", url=None)
            return 200, session
    if parts[:4] == ["_fake", "stripe", "checkout", "sessions"] and parts[5:] == ["complete"]:
        session = s.sessions.get(parts[4])
        if session is None:
            return 404, _no_such("checkout session")
        if session["status"] == "open":
            pi = "pi_" + session["id"].removeprefix("cs_")
            session.update(status="complete", payment_status="paid", payment_intent=pi, url=None)
        return 200, session
    return None


def switch_prices(
    s: FakeState, sub: dict[str, Any], form: dict[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    """`items[N][id]` + `items[N][price]` of a subscription update: the item moves to the price (an
    entry without an id adds an item), all or nothing, as Stripe does; None when all applied."""
    wanted = [form["items"][k] for k in sorted(form.get("items") or {}, key=int)]
    items = sub.setdefault("items", {"object": "list", "data": []})["data"]
    for entry in wanted:
        if entry.get("price") not in s.prices:
            return 400, _no_such(f"price: '{entry.get('price')}'")
        if entry.get("id") and not any(i.get("id") == entry["id"] for i in items):
            return 400, _no_such(f"subscription item: '{entry['id']}'")
    for entry in wanted:
        price = dict(s.prices[entry["price"]])
        item = next((i for i in items if entry.get("id") and i.get("id") == entry["id"]), None)
        if item is None:
            items.append({"id": f"si_fake{len(items) + 1}", "object": "subscription_item", "price": price})
        else:
            item["price"] = price
    s.price_switches.append(
        {
            "subscription": sub["id"],
            "prices": [e["price"] for e in wanted],
            "proration_behavior": form.get("proration_behavior"),
        }
    )
    return None


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

    def do_GET(self) -> None:  # noqa: PLR0911 - a router
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
                        "checkout_sessions": list(s.sessions.values()),
                        "prices": s.prices,
                        "price_switches": s.price_switches,
                        "requests": s.requests,
                    },
                )
            if self.path.startswith("/c/pay/"):
                return self._pay_page(s.sessions.get(self.path.rsplit("/", 1)[-1]))
            answered = checkout_sessions(s, "GET", urlsplit(self.path).path, "", None, "")
            if answered is not None:
                return self._send(*answered)
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

    def _pay_page(self, session: dict[str, Any] | None) -> None:
        if session is None:
            self._send(404, _no_such("checkout session"))
            return
        text = (
            f"Fake Stripe Checkout (local)\n\nSession {session['id']}: {session['status']}, "
            f"{session['amount_total']} {session['currency']} (minor units)\n\n"
            "Pay it with a signed checkout.session.completed sent to the local stack:\n"
            f"  python -m infra.gateway_events checkout.session.completed --session {session['id']}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_PUT(self) -> None:
        body, _ = self._body()
        with self.state.lock:
            if self.path == "/_fake/stripe/outage":
                self.state.stripe_down = bool(body.get("down"))
                return self._send(200, {"down": self.state.stripe_down})
            if self.path == "/_fake/stripe/lost-answers":
                self.state.lost_answers = int(body.get("count") or 0)
                return self._send(200, {"count": self.state.lost_answers})
            if self.path.startswith("/_fake/stripe/prices/"):
                pid = self.path.rsplit("/", 1)[-1]
                self.state.prices[pid] = new_price(pid, **body)
                return self._send(200, self.state.prices[pid])
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

    def do_POST(self) -> None:  # noqa: PLR0911 - a router
        body, raw = self._body()
        s = self.state
        key = self.headers.get("Idempotency-Key") or self.headers.get("X-Idempotent-Key")
        with s.lock:
            s.requests.append(f"POST {self.path}")
            host = f"http://{self.headers.get('Host', '127.0.0.1')}"
            answered = checkout_sessions(s, "POST", self.path, raw, key, host)
            if answered is not None:
                return self._send(*answered)
            if key and f"{self.path}:{key}" in s.idempotent:
                return self._answer(s.idempotent[f"{self.path}:{key}"])
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
                form = form_fields(raw)
                if form.get("items"):
                    refused = switch_prices(s, sub, form)
                    if refused is not None:
                        return self._send(*refused)
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
            return self._answer(answer)

    def _answer(self, answer: dict[str, Any]) -> None:
        """A done request's answer, unless the fake is told to lose it (`lost_answers`): then the
        work stays done (and its Idempotency-Key kept) but the caller sees a 500."""
        s = self.state
        if s.lost_answers and self.path.startswith("/v1/") and self.path not in NOMBA_PATHS:
            s.lost_answers -= 1
            return self._send(500, LOST_ANSWER)
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

    # in-process views for tests (the same state `GET /_fake/state` shows)
    def sessions(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(s) for s in self.state.sessions.values()]

    def session_for(self, hold_id: str) -> dict[str, Any]:
        """The Checkout Session opened for a hold (its metadata names the hold)."""
        return next(s for s in self.sessions() if s["metadata"].get("hold_id") == hold_id)

    def session_keys(self) -> list[str]:
        with self.state.lock:
            return list(self.state.session_keys)

    def add_price(self, price_id: str, lookup_key: str | None = None, **extra: Any) -> dict[str, Any]:
        with self.state.lock:
            self.state.prices[price_id] = new_price(price_id, lookup_key, **extra)
            return dict(self.state.prices[price_id])

    def price_switches(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(p) for p in self.state.price_switches]

    def lose_answers(self, count: int) -> None:
        """The next `count` Stripe POST answers are lost: the work is done, the caller sees a 500."""
        with self.state.lock:
            self.state.lost_answers = count

    def stripe_outage(self, down: bool = True) -> None:
        with self.state.lock:
            self.state.stripe_down = down
