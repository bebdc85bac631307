"""AWS answered over HTTP with canned responses: recorded once against moto, replayed by a tiny
local endpoint (`AWS_ENDPOINT_URL`), so a function pays for serialising, sending, parsing and
tracing each call as in Lambda, but not for moto (which copies the table on every transaction).

A request is answered with the response recorded for the same operation and the same body; else
with the one recorded for the most similar body of that operation; else with an empty JSON object
(a DynamoDB read of an unknown key, a write without return values). `PublishBatch` is answered from the
request (every entry published), so a batch of any size succeeds. The endpoint counts the calls it
answers between the child's phase marks.
"""

from __future__ import annotations

import difflib
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

KEPT_HEADERS = ("content-type", "x-amz-crc32", "x-amzn-requestid")


def canonical(body: bytes | str | dict[str, Any] | None, content_type: str = "") -> str:
    """One spelling of a request body: sorted JSON, or sorted form fields (query protocol)."""
    if isinstance(body, dict):
        return urlencode(sorted((k, str(v)) for k, v in body.items()))
    text = body.decode() if isinstance(body, bytes) else (body or "")
    if "x-www-form-urlencoded" in content_type or (text and not text.lstrip().startswith("{")):
        return urlencode(sorted(parse_qsl(text, keep_blank_values=True)))
    return json.dumps(json.loads(text), sort_keys=True) if text else ""


@dataclass
class Recording:
    """operation -> canonical request body -> response (status, headers, body)."""

    responses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def add(self, operation: str, body: str, status: int, headers: dict[str, str], content: bytes) -> None:
        kept = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
        entry = {"status": status, "headers": kept, "body": content.decode()}
        self.responses.setdefault(operation, {})[body] = entry
        self.responses[operation]["*"] = entry
        self.calls.append(operation)

    def to_json(self) -> dict[str, Any]:
        return self.responses

    def merge(self, other: dict[str, dict[str, dict[str, Any]]]) -> None:
        for operation, bodies in other.items():
            self.responses.setdefault(operation, {}).update(bodies)


@contextmanager
def recording(clients: list[Any]) -> Iterator[Recording]:
    """Records every call made through `clients` (botocore hooks; works under moto's mock_aws)."""
    rec = Recording()

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        headers = params.get("headers") or {}
        context["bench_body"] = canonical(params.get("body"), str(headers.get("Content-Type", "")))

    def after(http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        headers = {k.lower(): v for k, v in dict(http_response.headers).items()}
        rec.add(
            model.name,
            context.get("bench_body", ""),
            http_response.status_code,
            headers,
            http_response.content,
        )

    for client in clients:
        client.meta.events.register("before-call.*.*", before, unique_id="bench-before")
        client.meta.events.register("after-call.*.*", after, unique_id="bench-after")
    try:
        yield rec
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", unique_id="bench-before")
            client.meta.events.unregister("after-call.*.*", unique_id="bench-after")


def _publish_batch(form: dict[str, str]) -> bytes:
    ids = [
        v for k, v in form.items() if k.startswith("PublishBatchRequestEntries.member.") and k.endswith(".Id")
    ]
    members = "".join(f"<member><Id>{i}</Id><MessageId>{uuid.uuid4()}</MessageId></member>" for i in ids)
    return (
        '<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult>'
        f"<Successful>{members}</Successful><Failed></Failed></PublishBatchResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></PublishBatchResponse>"
    ).encode()


def _nearest(recorded: dict[str, dict[str, Any]], body: str) -> dict[str, Any] | None:
    """The answer recorded for this body, else for the most similar one: a key holding the time
    (the login's IP throttle window, 15 minutes) may have moved on since the recording."""
    if body in recorded:
        return recorded[body]
    bodies = [b for b in recorded if b != "*"]
    if not bodies:
        return recorded.get("*")
    return recorded[max(bodies, key=lambda b: difflib.SequenceMatcher(None, b, body).ratio())]


class Endpoint:
    """The canned-answer endpoint, on a loopback port, in a thread of this process."""

    def __init__(self, responses: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.responses = responses
        self.phase = "import"
        self.counts: dict[str, Counter[str]] = {}
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed ACK

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                if split.path == "/__bench/mark":
                    endpoint.phase = dict(parse_qsl(split.query)).get("phase", "?")
                self._send(200, {"content-type": "text/plain"}, b"ok")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, headers, body = endpoint.answer(dict(self.headers.items()), raw)
                self._send(status, headers, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes]:
        lower = {k.lower(): v for k, v in headers.items()}
        content_type = lower.get("content-type", "")
        target = lower.get("x-amz-target")
        form = {} if target else dict(parse_qsl(raw.decode(), keep_blank_values=True))
        operation = target.rsplit(".", 1)[-1] if target else form.get("Action", "?")
        with self.lock:
            self.counts.setdefault(self.phase, Counter())[operation] += 1
        if operation == "PublishBatch":
            return 200, {"content-type": "text/xml"}, _publish_batch(form)
        recorded = self.responses.get(operation, {})
        # one answer recorded (most writes): no need to read the request to choose
        only = len(recorded) <= 2
        found = recorded.get("*") if only else _nearest(recorded, canonical(raw, content_type))
        if found is None:
            return 200, {"content-type": "application/x-amz-json-1.0"}, b"{}"
        return int(found["status"]), dict(found["headers"]), str(found["body"]).encode()

    def reset(self) -> None:
        with self.lock:
            self.counts = {}
            self.phase = "import"

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
