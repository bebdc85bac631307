"""Suspicious activity detected at login, the IP allowlist, audit filters and export."""

from __future__ import annotations

import csv
import io
import json

from tests.support.actors import PASSWORD, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def _login(api: Api, email: str, ip: str, country: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"cloudfront-viewer-country": country} if country else None
    return api.post("/auth/login", {"email": email, "password": PASSWORD}, ip=ip, headers=headers)


def test_new_ip_new_country_and_concurrent_locations_are_flagged(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert _login(api, cashier.email, "203.0.113.10", "GB").json["suspicious"] == []
    flagged = _login(api, cashier.email, "198.51.100.20", "BR")
    assert flagged.json["suspicious"] == ["new_ip", "new_country", "concurrent_locations"]
    found = api.get("/security/suspicious-activity", token=boss.token)
    assert found.status == 200
    assert {f["kind"] for f in found.json["items"]} == {"new_ip", "new_country", "concurrent_locations"}
    only = api.get("/security/suspicious-activity", token=boss.token, query={"kind": "new_country"}).json
    assert [f["country"] for f in only["items"]] == ["BR"]
    sessions = api.get("/sessions", token=boss.token, query={"user_id": cashier.user_id}).json["items"]
    assert any(s["suspicious"] for s in sessions)
    audit = api.get("/audit-logs", token=boss.token, query={"event_type": "suspicious_activity"}).json[
        "items"
    ]
    assert len(audit) == 3
    assert api.get("/security/suspicious-activity", token=cashier.token).code == "SAAS_001"
    assert (
        api.get(
            "/security/suspicious-activity", token=other.token, query={"tenant_id": boss.tenant_id}
        ).status
        == 404
    )
    assert api.get("/security/suspicious-activity", token=boss.token, query={"kind": "aliens"}).status == 422


def test_failed_logins_by_ip_and_the_allowlist(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    allow = api.get("/security/ip-allowlist", token=boss.token).json
    assert allow["failed_login_threshold"] == 10
    assert (
        api.call(
            "PUT", "/security/ip-allowlist", json_body={**allow, "entries": ["not-an-ip"]}, token=boss.token
        ).status
        == 422
    )
    assert api.call("PUT", "/security/ip-allowlist", json_body=allow, token=cashier.token).code == "SAAS_001"
    assert (
        api.call(
            "PUT",
            "/security/ip-allowlist",
            json_body=allow,
            token=other.token,
            query={"tenant_id": boss.tenant_id},
        ).status
        == 404
    )
    saved = api.call(
        "PUT",
        "/security/ip-allowlist",
        json_body={**allow, "entries": ["10.0.0.0/8"], "failed_login_threshold": 3},
        token=boss.token,
    )
    assert saved.status == 200
    policy = api.get("/security/password-policy", token=boss.token).json
    api.call(
        "PUT", "/security/password-policy", json_body={**policy, "lockout_threshold": 20}, token=boss.token
    )
    for _ in range(3):
        api.post("/auth/login", {"email": cashier.email, "password": "wrong-pass-1"}, ip="10.1.2.3")
    assert api.get("/security/suspicious-activity", token=boss.token).json["items"] == []
    for _ in range(3):
        api.post("/auth/login", {"email": cashier.email, "password": "wrong-pass-1"}, ip="192.0.2.50")
    found = api.get("/security/suspicious-activity", token=boss.token).json["items"]
    assert [(f["kind"], f["ip"]) for f in found] == [("failed_logins_ip", "192.0.2.50")]
    failed = api.get(
        "/audit-logs", token=boss.token, query={"event_type": "login_failed", "ip": "192.0.2.50"}
    )
    assert len(failed.json["items"]) == 3


def test_export_audit_logs_as_csv_and_json(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    api.post("/auth/login", {"email": cashier.email, "password": "=cmd|' /C calc'!A0"})
    out = api.get("/audit-logs/export", token=boss.token, query={"format": "csv"})
    assert out.status == 200, out.text
    assert out.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(out.text)))
    assert int(out.headers["x-row-count"]) == len(rows) > 0
    assert {r["tenant_id"] for r in rows} == {boss.tenant_id}
    as_json = api.get(
        "/audit-logs/export", token=boss.token, query={"format": "json", "event_type": "login_failed"}
    )
    data = json.loads(as_json.text)
    assert [r["event_type"] for r in data] == ["login_failed"]
    assert api.get("/audit-logs/export", token=cashier.token).code == "SAAS_001"
    assert api.get("/audit-logs/export", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert api.get("/audit-logs/export", token=boss.token, query={"format": "xml"}).status == 422
    exports = api.get("/audit-logs", token=boss.token, query={"event_type": "audit_exported"}).json["items"]
    assert len(exports) == 2


def test_no_route_changes_or_deletes_audit_records(api: Api) -> None:
    root = super_admin(api)
    for method in ("PUT", "PATCH", "DELETE"):
        assert api.call(method, "/audit-logs", token=root.token).status == 405
