"""The local stack over HTTP: the gateway, the handlers behind it, the seeded admin, the mail pipeline."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_state_file_has_the_urls_and_admin_credentials(local_stack: dict[str, Any]) -> None:
    for key in ("api_url", "moto_url", "admin_email", "admin_password", "admin_token"):
        assert local_stack.get(key), key
    assert local_stack["api_url"].startswith("http://127.0.0.1:")


def test_health_answers_200_json(local_stack: dict[str, Any]) -> None:
    status, headers, body = call("GET", f"{local_stack['api_url']}/health")
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["status"] == "ok"
    assert headers.get("apigw-requestid")


def test_unknown_path_answers_404_with_an_error_object(local_stack: dict[str, Any]) -> None:
    status, headers, body = call("GET", f"{local_stack['api_url']}/no/such/route")
    assert status == 404, body
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"]
    assert error["message"]
    assert error["request_id"] == headers["apigw-requestid"]


def test_seeded_admin_token_lists_tenants(local_stack: dict[str, Any]) -> None:
    token = local_stack["admin_token"]
    status, _, body = call(
        "GET", f"{local_stack['api_url']}/tenants", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200, body
    assert isinstance(json.loads(body)["items"], list)


def test_login_with_the_printed_credentials(local_stack: dict[str, Any]) -> None:
    creds = {"email": local_stack["admin_email"], "password": local_stack["admin_password"]}
    status, _, body = call("POST", f"{local_stack['api_url']}/auth/login", body=creds)
    assert status == 200, body
    assert json.loads(body)["token"]


def test_cors_preflight_is_answered_by_the_gateway(local_stack: dict[str, Any]) -> None:
    status, headers, _ = call(
        "OPTIONS",
        f"{local_stack['api_url']}/tenants",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert status == 204
    assert headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
    assert "POST" in headers["access-control-allow-methods"]


def test_seeding_mail_goes_through_the_event_pipeline(local_stack: dict[str, Any]) -> None:
    """outbox item -> stream -> relay -> SNS -> mail queue -> mailer -> SES, all in the stack."""
    deadline = time.monotonic() + 30
    sent: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        _, _, body = call("GET", f"{local_stack['moto_url']}/moto-api/data.json")
        sent = json.loads(body).get("ses", {}).get("Message", [])
        if sent:
            break
        time.sleep(0.5)
    assert sent, "no e-mail was sent"
    assert any("/activate?token=" in m.get("body", "") for m in sent)
