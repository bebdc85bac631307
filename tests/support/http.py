"""Calling the API in-process: route like API Gateway (from template.yaml), real v2 events."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from infra.apps import function_module
from infra.lambda_events import LambdaContext, http_event
from tests.support import secrets_watch
from tests.support.stack import Stack, template


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def code(self) -> str | None:
        body = self.json
        return body.get("error", {}).get("code") if isinstance(body, dict) else None


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    code_uri: str
    handler: str
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def routes() -> list[Route]:
    found = []
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        for ev in (props.get("Events") or {}).values():
            if ev["Type"] != "HttpApi":
                continue
            path, method = ev["Properties"]["Path"], ev["Properties"]["Method"].upper()
            regex = "^" + re.sub(r"\{([^/}]+)\}", r"(?P<\1>[^/]+)", path) + "$"
            found.append(Route(method, path, props["CodeUri"], props["Handler"], re.compile(regex)))
    # exact paths before templated ones, the catch-all last
    return sorted(found, key=lambda r: (r.path == "$default", "{" in r.path))


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    for r in routes():
        if r.path == "$default":
            return r, {}
        m = r.pattern.match(path)
        if m and r.method in {method.upper(), "ANY"}:
            return r, m.groupdict()
    raise AssertionError("no $default route")


class Api:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        ip: str = "203.0.113.10",
    ) -> Reply:
        route, params = match(method, path)
        hdrs = {"content-type": "application/json", **(headers or {})}
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        body = (
            raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
        )
        event = http_event(
            method,
            path,
            route_key="$default" if route.path == "$default" else f"{route.method} {route.path}",
            path_parameters=params or None,
            query=urlencode({k: v for k, v in (query or {}).items() if v is not None}),
            headers=hdrs,
            body=body,
            source_ip=ip,
        )
        secrets_watch.scan(json_body)
        if token:
            secrets_watch.register(token)
        module = function_module(route.code_uri, route.handler)
        out = module.lambda_handler(event, LambdaContext(function_name=route.code_uri))
        reply = Reply(
            out["statusCode"], {k.lower(): v for k, v in (out.get("headers") or {}).items()}, out["body"]
        )
        if "json" in reply.headers.get("content-type", ""):
            secrets_watch.scan(reply.json)
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.call("DELETE", path, **kw)
