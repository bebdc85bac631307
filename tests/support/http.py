"""Calling the API in-process: route like API Gateway (from template.yaml), real v2 events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from infra.apps import function_module
from infra.lambda_events import LambdaContext, http_event
from infra.local.gateway import Router
from infra.local.template import routes
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


@lru_cache(maxsize=1)
def router() -> Router:
    return Router(routes(template()))


def handler_of(function: str) -> tuple[str, str]:
    props = template()["Resources"][function]["Properties"]
    return props["CodeUri"], props["Handler"]


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
        found = router().match(method, path)
        assert found is not None, "the template has a $default route"
        hdrs = {"content-type": "application/json", **(headers or {})}
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        body = (
            raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
        )
        qs = urlencode({k: v for k, v in (query or {}).items() if v is not None})
        event = http_event(
            method,
            f"{path}?{qs}" if qs else path,
            route_key=found.route.route_key,
            path_parameters=found.path_parameters,
            headers=hdrs,
            body=body,
            source_ip=ip,
        )
        secrets_watch.scan(json_body)
        if token:
            secrets_watch.register(token)
        code_uri, handler = handler_of(found.route.function)
        out = function_module(code_uri, handler).lambda_handler(event, LambdaContext(found.route.function))
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
