"""A webhook receiver for `make dev`: prints each message, verified when given the secret.

python -m infra.webhook_receiver 9000 --secret whsec_...   # then register http://127.0.0.1:9000/hook
python -m infra.webhook_receiver 9000 --status 503        # a failing receiver (to see retries)
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("port", type=int, nargs="?", default=9000)
    parser.add_argument("--secret", action="append", default=[], help="whsec_… (repeat during a rotation)")
    parser.add_argument("--status", type=int, default=200, help="the status to answer")
    args = parser.parse_args(argv)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            verdicts = []
            for secret in args.secret:
                from standardwebhooks import Webhook

                try:
                    Webhook(secret).verify(body, headers)
                    verdicts.append("verified")
                except Exception as exc:
                    verdicts.append(f"NOT verified ({exc})")
            print(
                json.dumps({"webhook-id": headers.get("webhook-id"), "signatures": verdicts, "body": body}),
                flush=True,
            )
            self.send_response(args.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:  # noqa: ARG002
            return None

    print(f"receiving on http://127.0.0.1:{args.port}/hook (answering {args.status})", flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
