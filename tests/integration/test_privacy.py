"""Data requests: export everything held about a user; erase it in order, resumably; the log."""

from __future__ import annotations

from typing import Any

from keel.store import table
from tests.support.actors import PASSWORD, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def _about(api: Api, user_id: str) -> list[dict[str, Any]]:
    return [i for i in api.stack.scan() if user_id in str(i) and i.get("entity") not in {"outbox", "audit"}]


def test_export_holds_profile_sessions_history_and_audit_without_secrets(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com", name="Pat Pharmacist")
    api.post(f"/users/{ph.user_id}/role", {"role": "cashier", "reason": "till cover"}, token=boss.token)
    reply = api.get(f"/users/{ph.user_id}/data-export", token=boss.token)
    assert reply.status == 200, reply.text
    doc = reply.json
    assert doc["user"]["email"] == "ph@acme.example.com"
    assert "password_hash" not in doc["user"]
    assert [i["kind"] for i in doc["items"]] == ["PLACES", "ROLEHIST"]  # login places, role history
    assert len(doc["sessions"]) == 1
    assert doc["invitation"]["email"] == "ph@acme.example.com"
    assert {"login", "role_changed"} <= {r["event_type"] for r in doc["audit_records"]}
    assert "hash" not in reply.text
    assert api.get(f"/users/{ph.user_id}/data-export", token=ph.token).status == 200  # their own data
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert api.get(f"/users/{ph.user_id}/data-export", token=cashier.token).code == "SAAS_001"
    assert api.get(f"/users/{ph.user_id}/data-export", token=other.token).status == 404
    cross = api.get(f"/users/{ph.user_id}/data-export", token=root.token, query={"tenant_id": boss.tenant_id})
    assert cross.status == 200
    exports = api.get("/audit-logs", token=boss.token, query={"event_type": "data_exported"}).json["items"]
    assert len(exports) == 3


def test_delete_erases_in_order_keeps_audit_ids_and_logs(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com", name="Pat Pharmacist")
    api.post(f"/users/{ph.user_id}/role", {"role": "cashier", "reason": "till cover"}, token=boss.token)
    api.patch(f"/users/{ph.user_id}", {"phone": "+2348012345678"}, token=boss.token)
    audit_ids = {r["id"] for r in api.get(f"/users/{ph.user_id}/activity", token=boss.token).json["items"]}
    reply = api.post(f"/users/{ph.user_id}/data-deletion", {"reason": "GDPR request #41"}, token=boss.token)
    assert reply.status == 200, reply.text
    entry = reply.json
    assert entry["deleted"] == [
        "notifications",
        "sessions",
        "tokens",
        "two_factor",
        "other",
        "buyer_records",
        "payment_records",
        "invitation",
        "audit",
        "profile",
    ]
    assert entry["counts"]["sessions"] == 1
    assert entry["counts"]["other"] == 2  # the role history and the known login places
    assert entry["counts"]["invitation"] == 1
    assert entry["counts"]["audit"] >= 3
    assert entry["requested_by"] == boss.user_id
    # the account is gone: no login, no profile, no list entry, no seat
    assert api.post("/auth/login", {"email": "ph@acme.example.com", "password": PASSWORD}).code == "AUTH_001"
    assert api.get(f"/users/{ph.user_id}", token=boss.token).code == "SAAS_002"
    assert api.get(f"/users/{ph.user_id}", token=ph.token).code == "AUTH_004"
    assert [u["user_id"] for u in api.get("/users", token=boss.token).json["items"]] == [boss.user_id]
    assert api.get("/users", token=boss.token, query={"q": "pat"}).json["items"] == []
    assert api.get(f"/tenants/{boss.tenant_id}", token=boss.token).json["user_count"] == 1
    # what is left: a tombstone without personal fields, and the anonymised invitation
    left = _about(api, ph.user_id)
    assert sorted(i["entity"] for i in left) == ["deletion_log", "invitation", "user"]
    tomb = next(i for i in left if i["entity"] == "user")
    assert tomb["status"] == "deleted"
    assert tomb["name"] == "Deleted user"
    assert "phone" not in tomb
    assert "password_hash" not in tomb
    assert "ph@acme.example.com" not in str(api.stack.scan())
    # audit records keep their ids and lose the personal fields
    records = [i for i in api.stack.entities("audit") if i["id"] in audit_ids]
    assert {r["id"] for r in records} == audit_ids
    assert all("ip" not in r and "user_agent" not in r and r["anonymised"] for r in records)
    log = api.get("/deletion-log", token=boss.token).json["items"]
    assert [(e["user_id"], e["reason"]) for e in log] == [(ph.user_id, "GDPR request #41")]
    assert (
        api.post(f"/users/{ph.user_id}/data-deletion", {"reason": "again"}, token=boss.token).code
        == "SAAS_002"
    )


def test_interrupted_deletion_resumes_and_finishes_once(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    api.post(f"/users/{ph.user_id}/role", {"role": "cashier", "reason": "till cover"}, token=boss.token)
    client = table.client()
    calls = {"n": 0}

    def crash_on_fourth_transaction(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise ConnectionError("lambda timed out")

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", crash_on_fourth_transaction)
    try:
        crashed = api.post(f"/users/{ph.user_id}/data-deletion", {"reason": "ticket 7"}, token=boss.token)
        assert (crashed.status, crashed.code) == (500, "API_008")
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", crash_on_fourth_transaction)
    progress = api.stack.entities("deletion_progress")
    assert len(progress) == 1
    assert 0 < len(progress[0]["done"]) < 8
    assert api.post("/auth/login", {"email": "ph@acme.example.com", "password": PASSWORD}).code == "AUTH_001"
    assert api.get("/deletion-log", token=boss.token).json["items"] == []
    resumed = api.post(f"/users/{ph.user_id}/data-deletion", {"reason": "ticket 7 (retry)"}, token=boss.token)
    assert resumed.status == 200, resumed.text
    assert resumed.json["reason"] == "ticket 7"  # the original request
    assert resumed.json["counts"]["sessions"] == 1
    assert resumed.json["counts"]["other"] == 2  # role history, login places
    assert api.stack.entities("deletion_progress") == []
    assert len(api.get("/deletion-log", token=boss.token).json["items"]) == 1


def test_delete_refusals_write_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    before = api.stack.scan()
    path = f"/users/{ph.user_id}/data-deletion"
    short = api.post(path, {"reason": "x"}, token=boss.token)
    assert (short.status, short.code, short.json["error"]["details"][0]["field"]) == (
        422,
        "API_007",
        "reason",
    )
    assert api.post(path, {"reason": "please"}, token=ph.token).code == "SAAS_001"
    assert api.post(path, {"reason": "please"}, token=other.token).status == 404
    assert (
        api.post(path, {"reason": "please"}, token=other.token, query={"tenant_id": boss.tenant_id}).status
        == 404
    )
    myself = api.post(f"/users/{boss.user_id}/data-deletion", {"reason": "please"}, token=boss.token)
    assert (myself.status, myself.code) == (409, "SAAS_011")
    assert api.get("/deletion-log", token=ph.token).code == "SAAS_001"
    assert api.get("/deletion-log", token=other.token, query={"tenant_id": boss.tenant_id}).status == 404
    assert api.stack.scan() == before
    by_root = api.post(
        path, {"reason": "regulator order"}, token=root.token, query={"tenant_id": boss.tenant_id}
    )
    assert by_root.status == 200
    assert api.get("/deletion-log", token=other.token).json["items"] == []
    assert (
        len(api.get("/deletion-log", token=root.token, query={"tenant_id": boss.tenant_id}).json["items"])
        == 1
    )


def test_delete_also_blanks_the_ips_of_security_findings(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com", name="Pat Pharmacist")
    moved = api.post("/auth/login", {"email": ph.email, "password": PASSWORD}, ip="198.51.100.7")
    assert moved.status == 200, moved.text
    findings = api.get("/security/suspicious-activity", token=boss.token).json["items"]
    mine = [f for f in findings if f["user_id"] == ph.user_id]
    assert mine
    assert {f["ip"] for f in mine} == {"198.51.100.7"}
    reply = api.post(f"/users/{ph.user_id}/data-deletion", {"reason": "GDPR request #42"}, token=boss.token)
    assert reply.status == 200, reply.text
    after = api.get("/security/suspicious-activity", token=boss.token).json["items"]
    kept = [f for f in after if f["user_id"] == ph.user_id]
    assert [f["id"] for f in kept] == [f["id"] for f in mine]  # the finding stays, as a record
    assert all(f["ip"] is None for f in kept)
