"""Bad input and refusals: the error shape, the code, the status, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.actors import Actor, super_admin, tenant_admin
from tests.support.http import Api


def _writes(api: Api) -> dict[str, int]:
    items = api.stack.scan()
    return {
        kind: sum(1 for i in items if i.get("entity") == kind)
        for kind in ("tenant", "user", "outbox", "audit")
    }


@pytest.fixture
def root(api: Api) -> Actor:
    return super_admin(api)


def test_invalid_json_is_api_005_and_writes_nothing(api: Api, root: Actor) -> None:
    before = _writes(api)
    reply = api.call("POST", "/tenants", raw_body="{not json", token=root.token)
    assert (reply.status, reply.code) == (400, "API_005")
    assert reply.json["error"]["request_id"]
    assert _writes(api) == before


def test_schema_violation_is_api_007_naming_each_field(api: Api, root: Actor) -> None:
    before = _writes(api)
    reply = api.post("/tenants", {"name": "x", "admin": {"email": "nope", "name": ""}}, token=root.token)
    assert (reply.status, reply.code) == (422, "API_007")
    fields = {d["field"] for d in reply.json["error"]["details"]}
    assert {"name", "admin.email", "admin.name"} <= fields
    assert _writes(api) == before


def test_unknown_fields_are_refused(api: Api, root: Actor) -> None:
    reply = api.post(
        "/tenants",
        {"name": "Fine", "admin": {"email": "a@b.example.com", "name": "A"}, "x": 1},
        token=root.token,
    )
    assert (reply.status, reply.code) == (422, "API_007")


def test_unknown_route_is_404(api: Api) -> None:
    reply = api.get("/no/such/thing")
    assert (reply.status, reply.code) == (404, "API_006")


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    reply = api.delete("/tenants")
    assert (reply.status, reply.code) == (405, "API_009")
    assert reply.headers["allow"] == "GET, POST"


def test_body_over_256_kb_is_413(api: Api, root: Actor) -> None:
    before = _writes(api)
    big = {"name": "Big", "admin": {"email": "a@b.example.com", "name": "x" * (300 * 1024)}}
    reply = api.post("/tenants", big, token=root.token)
    assert (reply.status, reply.code) == (413, "API_010")
    assert _writes(api) == before


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AUTH_001"),
        ({"authorization": "Basic abc"}, "AUTH_001"),
        ({"authorization": "Bearer nope"}, "AUTH_004"),
    ],
)
def test_missing_or_bad_token_is_401(api: Api, headers: dict[str, str], code: str) -> None:
    reply = api.get("/tenants", headers=headers)
    assert (reply.status, reply.code) == (401, code)


def test_missing_permission_is_403_saas_001_and_writes_nothing(api: Api, root: Actor) -> None:
    boss = tenant_admin(api, root)
    before = _writes(api)
    reply = api.post(
        "/tenants", {"name": "Mine", "admin": {"email": "m@m.example.com", "name": "M"}}, token=boss.token
    )
    assert (reply.status, reply.code) == (403, "SAAS_001")
    assert api.get("/tenants", token=boss.token).status == 403
    assert api.patch(f"/tenants/{boss.tenant_id}", {"name": "Renamed"}, token=boss.token).status == 403
    assert _writes(api) == before


def test_another_tenants_id_is_404(api: Api, root: Actor) -> None:
    a = tenant_admin(api, root, "A Co", "a@a.example.com")
    b = tenant_admin(api, root, "B Co", "b@b.example.com")
    reply = api.get(f"/tenants/{b.tenant_id}", token=a.token)
    assert (reply.status, reply.code) == (404, "SAAS_013")
    assert api.get("/tenants/ten_does_not_exist", token=a.token).status == 404
    logs = api.get("/audit-logs", token=a.token, query={"tenant_id": b.tenant_id})
    assert logs.status == 404


def test_duplicate_admin_email_is_409_and_writes_nothing(api: Api, root: Actor) -> None:
    body: dict[str, Any] = {"name": "First", "admin": {"email": "dup@x.example.com", "name": "D"}}
    assert api.post("/tenants", body, token=root.token).status == 201
    before = _writes(api)
    reply = api.post("/tenants", {**body, "name": "Second"}, token=root.token)
    assert (reply.status, reply.code) == (409, "SAAS_011")
    assert _writes(api) == before


def test_bad_query_parameter_is_422(api: Api, root: Actor) -> None:
    reply = api.get("/tenants", token=root.token, query={"limit": 5000})
    assert (reply.status, reply.code) == (422, "API_007")
    assert reply.json["error"]["details"][0]["field"] == "limit"


def test_tampered_cursor_is_400(api: Api, root: Actor) -> None:
    reply = api.get("/audit-logs", token=root.token, query={"cursor": "eyJwIjoiVCN4In0"})
    assert (reply.status, reply.code) == (400, "API_005")
