"""Lockout: per account and per IP, the same for unknown accounts, auto-unlock, unlock_user."""

from __future__ import annotations

import time

from keel.core import clock
from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member


def _fail(api: Api, email: str, n: int, ip: str = "198.51.100.7") -> list[tuple[int, str | None]]:
    return [
        (r.status, r.code)
        for r in (
            api.post("/auth/login", {"email": email, "password": "wrong-password-x"}, ip=ip) for _ in range(n)
        )
    ]


def test_lock_after_threshold_then_auto_unlock(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert _fail(api, cashier.email, 5) == [(401, "AUTH_001")] * 4 + [(423, "AUTH_002")]
    locked = api.post("/auth/login", {"email": cashier.email, "password": PASSWORD})
    assert (locked.status, locked.code) == (423, "AUTH_002")
    assert int(locked.headers["retry-after"]) == 15 * 60
    clock.advance(minutes=15, seconds=1)
    assert login(api, cashier.email).user_id == cashier.user_id
    logs = api.get("/audit-logs", token=boss.token, query={"event_type": "account_locked"}).json["items"]
    assert logs[0]["target_id"] == cashier.user_id


def test_unknown_accounts_look_the_same_from_outside(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    member(api, boss, "cash@acme.example.com", role="cashier")
    timings: dict[str, float] = {}
    answers: dict[str, list[tuple[int, str | None]]] = {}
    for email in ("cash@acme.example.com", "ghost@acme.example.com"):
        # CPU time of this process, not wall time: other processes on the machine do not skew it,
        # and an unknown address must still pay for a full Argon2id verification
        start = time.process_time()
        answers[email] = _fail(api, email, 6)
        timings[email] = time.process_time() - start
    assert answers["cash@acme.example.com"] == answers["ghost@acme.example.com"]
    assert answers["ghost@acme.example.com"][-1] == (423, "AUTH_002")
    ratio = timings["cash@acme.example.com"] / timings["ghost@acme.example.com"]
    assert 0.33 < ratio < 3, timings


def test_unlock_user_clears_the_counter(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "other@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    _fail(api, cashier.email, 5)
    denied = api.post(f"/users/{boss.user_id}/unlock", token=cashier.token)
    assert (denied.status, denied.code) == (403, "SAAS_001")
    assert api.post(f"/users/{cashier.user_id}/unlock", token=other.token).status == 404
    assert api.post("/users/usr_missing/unlock", token=boss.token).status == 404
    done = api.post(f"/users/{cashier.user_id}/unlock", token=boss.token)
    assert done.status == 200, done.text
    assert done.json == {"user_id": cashier.user_id, "was_locked": True, "failures_cleared": 5}
    assert login(api, cashier.email)
    assert api.get("/audit-logs", token=boss.token, query={"event_type": "account_unlocked"}).json["items"]


def test_tenant_threshold_applies(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    policy = api.get("/security/password-policy", token=boss.token).json
    api.call(
        "PUT", "/security/password-policy", json_body={**policy, "lockout_threshold": 2}, token=boss.token
    )
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    assert _fail(api, cashier.email, 2) == [(401, "AUTH_001"), (423, "AUTH_002")]


def test_successful_login_resets_the_counter(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    _fail(api, cashier.email, 4)
    login(api, cashier.email)
    assert _fail(api, cashier.email, 4) == [(401, "AUTH_001")] * 4


def test_one_ip_failing_on_many_accounts_is_throttled(api: Api) -> None:
    super_admin(api)
    replies = [
        api.post(
            "/auth/login",
            {"email": f"user{n}@spray.example.com", "password": "x-wrong-pass"},
            ip="192.0.2.99",
        )
        for n in range(51)
    ]
    assert replies[-1].code == "SAAS_010"
    assert replies[-1].status == 429
    other_ip = api.post("/auth/login", {"email": "root@example.com", "password": PASSWORD}, ip="192.0.2.1")
    assert other_ip.status == 200
