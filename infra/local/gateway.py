"""The HTTP API on 127.0.0.1: API Gateway HTTP API routing and payload format 2.0, to the handlers.

Routes and CORS come from template.yaml. A request is matched as API Gateway does: the exact path
first, then templated paths (`{id}`, `{proxy+}`), then the `$default` route.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.lambda_events import http_event
from infra.local import console, inspection
from infra.local.runtime import InvocationTimeout, Runtime
from infra.local.template import Route

API_ID = "keel-local"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


# ---------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


def _compile(path: str) -> tuple[re.Pattern[str], int]:
    """A templated path as a regex, and its count of literal segments (more = more specific)."""
    parts = []
    literals = 0
    for segment in path.strip("/").split("/"):
        if re.fullmatch(r"\{[^}]+\+\}", segment):
            parts.append("(.+)")
        elif re.fullmatch(r"\{[^}]+\}", segment):
            parts.append("([^/]+)")
        else:
            parts.append(re.escape(segment))
            literals += 1
    return re.compile("^/" + "/".join(parts) + "$"), literals


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.default = next((r for r in routes if r.path == "$default"), None)
        self.exact = {(r.method, r.path): r for r in routes if r.path != "$default" and "{" not in r.path}
        templated = [r for r in routes if r.path != "$default" and "{" in r.path]
        compiled = []
        for route in templated:
            regex, literals = _compile(route.path)
            names = re.findall(r"\{([^}+]+)\+?\}", route.path)
            compiled.append((route, regex, literals, names))
        # most literal segments first; greedy {proxy+} routes after the rest at the same count
        compiled.sort(key=lambda c: (-c[2], "+}" in c[0].path))
        self.templated = compiled

    def match(self, method: str, path: str) -> Match | None:
        method = method.upper()
        for m in (method, "ANY"):
            if route := self.exact.get((m, path)):
                return Match(route, {})
        for route, regex, _, names in self.templated:
            if route.method not in (method, "ANY"):
                continue
            found = regex.match(path)
            if found:
                values = list(found.groups())
                return Match(route, {n: unquote(v) for n, v in zip(names, values, strict=True)})
        if self.default is not None:
            return Match(self.default, {})
        return None


# ---------------------------------------------------------------------------------------- CORS


@dataclass
class Cors:
    allow_origins: list[str]
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: int | None
    allow_credentials: bool

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> Cors | None:
        if not config:
            return None
        as_list = lambda v: [str(x) for x in v] if isinstance(v, list) else ([str(v)] if v else [])  # noqa: E731
        return cls(
            allow_origins=as_list(config.get("AllowOrigins")),
            allow_methods=[m.upper() for m in as_list(config.get("AllowMethods"))],
            allow_headers=[h.lower() for h in as_list(config.get("AllowHeaders"))],
            expose_headers=as_list(config.get("ExposeHeaders")),
            max_age=int(config["MaxAge"]) if config.get("MaxAge") is not None else None,
            allow_credentials=bool(config.get("AllowCredentials", False)),
        )

    def origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.allow_origins:
            return "*" if not self.allow_credentials else origin
        return origin if origin in self.allow_origins else None

    def preflight(self, headers: dict[str, str]) -> dict[str, str] | None:
        """API Gateway answers a preflight itself; None when the request is not one."""
        origin = headers.get("origin")
        method = headers.get("access-control-request-method")
        if not origin or not method:
            return None
        allowed = self.origin(origin)
        out: dict[str, str] = {}
        if allowed and ("*" in self.allow_methods or method.upper() in self.allow_methods):
            out["access-control-allow-origin"] = allowed
            out["access-control-allow-methods"] = ",".join(self.allow_methods or [method.upper()])
            requested = headers.get("access-control-request-headers")
            if "*" in self.allow_headers and requested:
                out["access-control-allow-headers"] = requested
            elif self.allow_headers:
                out["access-control-allow-headers"] = ",".join(self.allow_headers)
            if self.max_age is not None:
                out["access-control-max-age"] = str(self.max_age)
            if self.allow_credentials:
                out["access-control-allow-credentials"] = "true"
        return out

    def response_headers(self, headers: dict[str, str]) -> dict[str, str]:
        allowed = self.origin(headers.get("origin"))
        if not allowed:
            return {}
        out = {"access-control-allow-origin": allowed}
        if self.expose_headers:
            out["access-control-expose-headers"] = ",".join(self.expose_headers)
        if self.allow_credentials:
            out["access-control-allow-credentials"] = "true"
        return out


# ---------------------------------------------------------------------------------------- events


@dataclass
class HttpResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def error_result(status: int, message: str, request_id: str, code: str = "API_008") -> HttpResult:
    body = json.dumps({"error": {"code": code, "message": message, "request_id": request_id}}).encode()
    return HttpResult(status, [("content-type", "application/json")], body)


def to_http(result: Any, request_id: str) -> HttpResult:
    """A handler's return value as API Gateway (payload 2.0) turns it into a response."""
    if result is None:
        return error_result(502, "The function returned no response", request_id)
    if not isinstance(result, dict) or "statusCode" not in result:
        # payload 2.0 without a statusCode: API Gateway answers 200 with the value as JSON
        return HttpResult(200, [("content-type", "application/json")], json.dumps(result).encode())
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return error_result(502, "The function returned a malformed response", request_id)
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        raw = b""
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(body)
    else:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
    return HttpResult(status, headers, raw)


# ---------------------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        """A client that went away is a line, not a traceback; anything else keeps its traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            console.line(
                "api", f"client {client_address[0]} closed the connection early ({type(exc).__name__})"
            )
            return
        console.error(f"the local gateway failed serving {client_address[0]}", exc)


class Gateway:
    """Binds the port at once (so a busy port fails before anything starts); serves once configured."""

    def __init__(self, port: int) -> None:
        self.server = _Server(("127.0.0.1", port), self._handler_class())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.runtime: Runtime | None = None
        self.router = Router([])
        self.cors: Cors | None = None
        self._serving: threading.Thread | None = None

    def configure(self, runtime: Runtime, routes: list[Route], cors: Cors | None) -> None:
        self.runtime = runtime
        self.router = Router(routes)
        self.cors = cors

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.server.serve_forever, args=(0.2,), name="gateway", daemon=True)
        thread.start()
        self._serving = thread
        return thread

    def shutdown(self) -> None:
        if self._serving is not None:  # shutdown() waits for serve_forever, so only once it runs
            self.server.shutdown()
            self._serving.join(timeout=5)
        self.server.server_close()

    def handle(
        self, method: str, target: str, header_pairs: list[tuple[str, str]], body: bytes, ip: str
    ) -> HttpResult:
        request_id = str(uuid.uuid4())
        lower = {k.lower(): v for k, v in header_pairs}
        extra: list[tuple[str, str]] = []
        if self.cors is not None:
            if method == "OPTIONS" and (pre := self.cors.preflight(lower)) is not None:
                return HttpResult(204, [*pre.items(), ("apigw-requestid", request_id)], b"")
            extra = list(self.cors.response_headers(lower).items())
        path = urlsplit(target).path or "/"
        if method == "GET" and (local := inspection.view(path)) is not None:
            return HttpResult(200, [("content-type", "application/json"), *extra], local)
        match = self.router.match(method, path)
        if match is None:
            result = HttpResult(404, [("content-type", "application/json")], b'{"message":"Not Found"}')
        else:
            forwarded = [
                ("x-forwarded-for", ip),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-port", str(self.port)),
            ]
            present = {k.lower() for k, _ in header_pairs}
            event = http_event(
                method,
                target,
                headers=[*header_pairs, *((k, v) for k, v in forwarded if k not in present)],
                body=body,
                source_ip=ip,
                route_key=match.route.route_key,
                path_parameters=match.path_parameters,
                request_id=request_id,
            )
            try:
                assert self.runtime is not None, "serve() before configure()"
                result = to_http(self.runtime.invoke(match.route.function, event, request_id), request_id)
            except InvocationTimeout:
                # API Gateway's answer when the integration does not answer in time
                result = HttpResult(
                    503, [("content-type", "application/json")], b'{"message":"Service Unavailable"}'
                )
            except Exception as exc:
                console.error(f"{match.route.function} raised on {method} {path}", exc)
                result = error_result(500, "Server error", request_id)
        names = {k.lower() for k, _ in result.headers}
        result.headers.extend((k, v) for k, v in extra if k not in names)
        result.headers.append(("apigw-requestid", request_id))
        return result

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "keel-local"

            def _serve(self) -> None:
                started = time.monotonic()
                body = self._body()
                pairs = [(k, v) for k, v in self.headers.items() if k.lower() != "transfer-encoding"]
                try:
                    result = gateway.handle(self.command, self.path, pairs, body, self.client_address[0])
                except Exception as exc:  # a bug here, not in a handler: still answer
                    console.error(f"the local gateway failed on {self.command} {self.path}", exc)
                    result = error_result(500, "Server error", "local-gateway")
                self.send_response_only(result.status)
                self.send_header("date", formatdate(usegmt=True))
                for name, value in result.headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(result.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(result.body)
                took = (time.monotonic() - started) * 1000
                console.line(
                    "api", f"{self.command} {urlsplit(self.path).path} -> {result.status} ({took:.0f} ms)"
                )

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def __getattr__(self, name: str) -> Any:
                """Any other method (TRACE, QUERY...) goes to the router too: $default answers 405."""
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per request comes from _serve

        return Handler
