"""Every request: authenticate -> authorise -> validate -> idempotency -> handler; JSON bodies only.

An anonymous or unauthorised caller learns nothing from validation; a body that is not JSON is 415
and one that is not UTF-8 is 400, on every operation that takes a body.
"""

from __future__ import annotations

import base64
import json

import pytest

from infra.apps import function_module
from infra.lambda_events import LambdaContext, http_event
from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api, handler_of, router

BAD_TENANT = {"name": "x", "admin": {"email": "not-an-email"}}


def test_no_token_and_a_bad_body_is_401_without_field_details(api: Api) -> None:
    reply = api.post("/tenants", BAD_TENANT)
    assert (reply.status, reply.code) == (401, "AUTH_001")
    assert "details" not in reply.json["error"]


def test_a_caller_without_the_permission_and_a_bad_body_is_403(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    reply = api.post("/tenants", BAD_TENANT, token=boss.token)
    assert (reply.status, reply.code) == (403, "SAAS_001")


def test_a_dead_token_and_a_bad_body_is_401(api: Api) -> None:
    root = super_admin(api)
    assert api.post("/auth/logout", token=root.token).status == 200
    reply = api.post("/tenants", BAD_TENANT, token=root.token)
    assert (reply.status, reply.code) == (401, "AUTH_004")


def test_public_routes_still_validate(api: Api) -> None:
    reply = api.post("/auth/login", {"email": "nobody"})
    assert (reply.status, reply.code) == (422, "API_007")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/tenants"),
        ("PATCH", "/tenants/ten_x"),
        ("POST", "/auth/login"),
        ("PUT", "/security/ip-allowlist"),
    ],
)
def test_a_body_that_is_not_utf8_is_400(api: Api, method: str, path: str) -> None:
    root = super_admin(api)
    reply = api.call(method, path, raw_body=b'{"name": "\xff\xfe"}', token=root.token)
    assert (reply.status, reply.code) == (400, "API_005")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(api: Api, content_type: str) -> None:
    root = super_admin(api)
    tenants = len(api.stack.entities("tenant"))
    reply = api.call(
        "POST", "/tenants", raw_body="name=x", token=root.token, headers={"content-type": content_type}
    )
    assert (reply.status, reply.code) == (415, "API_012")
    assert len(api.stack.entities("tenant")) == tenants


def test_415_comes_after_authentication(api: Api) -> None:
    reply = api.call("POST", "/tenants", raw_body="name=x", headers={"content-type": "text/plain"})
    assert (reply.status, reply.code) == (401, "AUTH_001")


def test_json_with_a_charset_or_a_json_suffix_is_accepted(api: Api) -> None:
    root = super_admin(api)
    body = {"name": "Charset Co", "admin": {"email": "c@charset.example.com", "name": "C"}}
    reply = api.post(
        "/tenants", body, token=root.token, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert reply.status == 201, reply.text


def test_a_base64_encoded_json_body_is_read(api: Api) -> None:
    """API Gateway base64-encodes bodies it considers binary; the handler decodes them."""
    root = super_admin(api)
    body = {"name": "Encoded Co", "admin": {"email": "e@encoded.example.com", "name": "É"}}
    found = router().match("POST", "/tenants")
    assert found is not None
    event = http_event(
        "POST",
        "/tenants",
        route_key=found.route.route_key,
        headers={"content-type": "application/json", "authorization": f"Bearer {root.token}"},
        body=json.dumps(body),
    )
    event["body"] = base64.b64encode(json.dumps(body).encode()).decode()
    event["isBase64Encoded"] = True
    code_uri, handler = handler_of(found.route.function)
    out = function_module(code_uri, handler).lambda_handler(event, LambdaContext(found.route.function))
    assert out["statusCode"] == 201, out["body"]
    assert json.loads(out["body"])["tenant"]["name"] == "Encoded Co"


def test_a_form_operation_takes_only_its_form_media_type(api: Api) -> None:
    """The link pages' form routes declare urlencoded bodies: JSON sent there is 415 too."""
    reply = api.call(
        "POST",
        "/forms/activate",
        raw_body=json.dumps({"token": "x", "password": "y"}),
        headers={"content-type": "application/json"},
    )
    assert (reply.status, reply.code) == (415, "API_012")
    assert "application/x-www-form-urlencoded" in reply.json["error"]["message"]
