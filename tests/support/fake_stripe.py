"""A fake Stripe API on a loopback port, for tests that drive the local stack over HTTP: the real
SDK in the checkout function is pointed at it through `stripe_api_base` in the app secret."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.checkout import form_fields


class FakeStripe:
    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path != "/v1/checkout/sessions":
                    self.send_response(404)
                    self.end_headers()
                    return
                form = form_fields(body)
                item = form["line_items"]["0"]
                with fake.lock:
                    session = {
                        "id": f"cs_test_{len(fake.sessions):06d}",
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.com/c/pay/cs_test_{len(fake.sessions)}",
                        "amount_total": int(item["price_data"]["unit_amount"]) * int(item["quantity"]),
                        "currency": item["price_data"]["currency"],
                        "metadata": form["metadata"],
                        "payment_status": "unpaid",
                        "status": "open",
                    }
                    fake.sessions.append(session)
                raw = json.dumps(session).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
