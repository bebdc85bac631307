"""health, get_error_codes, the spec and the docs."""

from __future__ import annotations

from tests.support.http import Api


def test_health_reports_each_dependency(api: Api) -> None:
    reply = api.get("/health")
    assert reply.status == 200
    body = reply.json
    assert body["status"] == "ok"
    kinds = {c["kind"] for c in body["checks"]}
    assert kinds == {"table", "topic", "queue", "secret"}
    assert all(c["status"] == "ok" and c["latency_ms"] >= 0 for c in body["checks"])
    assert {c["name"] for c in body["checks"] if c["kind"] == "queue"} >= {"MailQueue", "MailDLQ"}


def test_health_is_503_when_a_dependency_is_gone(api: Api) -> None:
    api.stack.client("sqs").delete_queue(QueueUrl=api.stack.queues["MailDLQ"])
    reply = api.get("/health")
    assert reply.status == 503
    failed = [c for c in reply.json["checks"] if c["status"] == "error"]
    assert [c["name"] for c in failed] == ["MailDLQ"]


def test_error_codes_list_the_whole_catalogue(api: Api) -> None:
    codes = {c["code"]: c for c in api.get("/error-codes").json}
    for prefix, last in (("SAAS", 10), ("AUTH", 8), ("API", 8)):
        for n in range(1, last + 1):
            assert f"{prefix}_{n:03d}" in codes
    assert codes["AUTH_002"]["http_status"] == 423
    assert codes["SAAS_001"]["title"] == "Insufficient permissions"


def test_openapi_is_served_with_runbook_operation_ids(api: Api) -> None:
    spec = api.get("/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"login", "logout", "refresh_session", "create_tenant", "get_tenant", "list_tenants"} <= ops
    assert {"update_tenant", "health", "get_error_codes", "list_audit_logs", "activate_account"} <= ops
    login = spec["paths"]["/auth/login"]["post"]
    assert login["security"] == []
    assert "requestBody" in login


def test_docs_page_points_at_the_spec(api: Api) -> None:
    reply = api.get("/docs")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in reply.text
