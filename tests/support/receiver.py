"""A webhook receiver on this machine: a real HTTP server thread that records what it gets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Served:
    """A real HTTP server thread on a free loopback port, serving `/hook` with a handler class."""

    server: Any

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver(_Served):
    status: int = 200
    reply_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    got: list[Received] = field(default_factory=list)
    server: Any = None

    def start(self) -> Receiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed ACK

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                owner.got.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if owner.delay:
                    time.sleep(owner.delay)
                payload = b'{"ok": true}'
                self.send_response(owner.status)
                for k, v in owner.reply_headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # noqa: ARG002
                return None

        self._serve(Handler)
        return self


@dataclass
class Drip(_Served):
    """A receiver that answers a byte every `interval` seconds for at least `seconds`: its body, or
    with `headers_too` its status line and headers as well (the slow drip no socket timeout trips)."""

    interval: float = 0.2
    seconds: float = 15.0
    headers_too: bool = False
    got: int = 0
    server: Any = None

    def start(self) -> Drip:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.got += 1
                body = b"x" * int(owner.seconds / owner.interval)
                head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                if not owner.headers_too:
                    self.wfile.write(head)
                    head = b""
                self.close_connection = True
                try:
                    for byte in head + body:
                        self.wfile.write(bytes([byte]))
                        time.sleep(owner.interval)
                except OSError:
                    return  # the client hung up

            def log_message(self, *args: Any) -> None:  # noqa: ARG002
                return None

        self._serve(Handler)
        return self
