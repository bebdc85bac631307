"""Contracts between the template, the code and the committed spec."""

from __future__ import annotations

import json

from infra import openapi
from infra.apps import api_modules
from infra.local.template import routes
from keel.http.auth import declared
from tests.support.stack import template


def test_committed_spec_matches_the_code() -> None:
    assert openapi.SPEC_PATH.read_text() == openapi.render(openapi.build()), "run `make openapi`"


def test_every_route_declares_its_permission_or_is_public() -> None:
    missing = []
    for code_uri, module in api_modules().items():
        app = module.app
        for route in [*app._static_routes, *app._dynamic_routes]:
            if not declared(route.middlewares):
                missing.append(f"{code_uri} {route.method} {route.path}")
    assert missing == []


def test_template_routes_and_spec_agree() -> None:
    spec = json.loads(openapi.SPEC_PATH.read_text())
    in_spec = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    in_template = {(r.method, r.path) for r in routes(template()) if r.path != "$default"}
    hidden = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/{asset}")}
    assert in_template - hidden == in_spec


def test_operation_ids_are_unique_snake_case() -> None:
    spec = json.loads(openapi.SPEC_PATH.read_text())
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(i == i.lower() and " " not in i for i in ids)


CREDENTIAL_FIELDS = {
    "token",
    "challenge_token",
    "setup_token",
    "reset_token",
    "secret",
    "otpauth_uri",
    "backup_codes",
    "temporary_password",
}


def _fields(schema: object, spec: dict, seen: set[str]) -> set[str]:
    if isinstance(schema, list):
        return set().union(*(_fields(s, spec, seen) for s in schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return set()
        seen.add(ref)
        return _fields(spec["components"]["schemas"][ref.rsplit("/", 1)[-1]], spec, seen)
    found = set(schema.get("properties", {}))
    for value in schema.values():
        found |= _fields(value, spec, seen)
    return found


def test_routes_answering_a_credential_are_declared_secret() -> None:
    """Their answers are never stored for an Idempotency-Key replay (keel.http.idempotency)."""
    from keel.http.auth import access_of

    spec = json.loads(openapi.SPEC_PATH.read_text())
    answering = set()
    for ops in spec["paths"].values():
        for op in ops.values():
            ok = {k: v for k, v in op["responses"].items() if k.startswith("2")}
            if _fields(ok, spec, set()) & CREDENTIAL_FIELDS:
                answering.add(op["operationId"])
    declared_secret = {
        route.operation_id
        for module in api_modules().values()
        for route in [*module.app._static_routes, *module.app._dynamic_routes]
        if (access := access_of(route.middlewares)) is not None and access.secret
    }
    assert answering
    assert declared_secret == answering
