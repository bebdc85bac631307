"""Issue 3 (identity and security) over HTTP against the running local stack, as a new user meets it.

TOTP with a real authenticator (pyotp, from the otpauth URI), sessions ended from another
session, lockout and unlock_user, impersonation with both people on the audit records.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from tests.e2e.client import PASSWORD, Actor, Api, Mailbox, actor_of, invite_member, login, new_tenant

pytestmark = pytest.mark.e2e


def _root(local_stack: dict[str, Any]) -> str:
    return str(local_stack["admin_token"])


def test_totp_login_sessions_and_terminating_one_from_another(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    admin = new_tenant(api, mailbox, _root(local_stack))

    started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=admin.token)
    assert started.status == 200, str(started)
    totp = pyotp.parse_uri(started.json["otpauth_uri"])
    assert isinstance(totp, pyotp.TOTP)
    confirmed = api.post("/auth/2fa/confirm", {"method": "totp", "code": totp.now()}, token=admin.token)
    assert confirmed.status == 200, str(confirmed)
    assert confirmed.json["methods"] == ["totp"]
    backup_codes = confirmed.json["backup_codes"]
    assert len(backup_codes) == 10

    assert api.post("/auth/logout", token=admin.token).status == 200
    assert api.get("/sessions", token=admin.token).status == 401

    challenge = api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert challenge.status == 200, str(challenge)
    assert challenge.json["two_factor_required"] is True
    assert challenge.json["token"] is None  # a challenge, not a session
    assert "totp" in challenge.json["methods"]
    wrong = api.post(
        "/auth/2fa/verify", {"challenge_token": challenge.json["challenge_token"], "code": "000000"}
    )
    assert (wrong.status, wrong.code) == (401, "AUTH_006")
    # A TOTP code is accepted once (RFC 6238 5.2), and confirming used the current one; the
    # authenticator's next code is in the one-step window the server accepts, so no 30 s wait.
    next_code = totp.at(time.time() + totp.interval)
    verified = api.post(
        "/auth/2fa/verify", {"challenge_token": challenge.json["challenge_token"], "code": next_code}
    )
    laptop = actor_of(verified, admin.email)

    # a second device signs in with a backup code
    second = api.post("/auth/login", {"email": admin.email, "password": PASSWORD})
    assert second.json["two_factor_required"] is True
    phone = actor_of(
        api.post(
            "/auth/2fa/verify",
            {
                "challenge_token": second.json["challenge_token"],
                "code": backup_codes[0],
                "method": "backup_code",
            },
        ),
        admin.email,
    )

    listed = api.get("/sessions", token=laptop.token, query={"user_id": admin.user_id})
    assert listed.status == 200, str(listed)
    rows = listed.json["items"]
    assert len(rows) == 2
    current = [s for s in rows if s["current"]]
    assert len(current) == 1
    assert all(s["ip"] == "127.0.0.1" and s["device"] for s in rows)
    phone_session = next(s for s in rows if not s["current"])["session_id"]
    assert api.get("/sessions", token=phone.token).status == 200

    done = api.post(f"/sessions/{phone_session}/terminate", {"reason": "lost phone"}, token=laptop.token)
    assert done.status == 200, str(done)
    refused = api.get("/sessions", token=phone.token)
    assert (refused.status, refused.code) == (401, "AUTH_004")
    still = api.get("/sessions", token=laptop.token)
    assert still.status == 200
    assert [s["session_id"] for s in still.json["items"]] == [current[0]["session_id"]]
    record = api.get("/audit-logs", token=laptop.token, query={"event_type": "session_terminated"})
    assert record.json["items"][0]["details"]["reason"] == "lost phone"


def test_failed_logins_lock_the_account_until_an_admin_unlocks_it(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    admin = new_tenant(api, mailbox, _root(local_stack))
    pia = invite_member(api, mailbox, admin, "pharmacist", "Pia Pharma")

    failures = [
        api.post("/auth/login", {"email": pia.email, "password": "not-her-password"}) for _ in range(5)
    ]
    assert [(r.status, r.code) for r in failures] == [(401, "AUTH_001")] * 4 + [(423, "AUTH_002")]
    locked = api.post("/auth/login", {"email": pia.email, "password": PASSWORD})
    assert (locked.status, locked.code) == (423, "AUTH_002")  # the right password too, while locked
    assert int(locked.headers["retry-after"]) > 0

    denied = api.post(f"/users/{pia.user_id}/unlock", token=pia.token)
    assert (denied.status, denied.code) == (403, "SAAS_001")
    unlocked = api.post(f"/users/{pia.user_id}/unlock", token=admin.token)
    assert unlocked.status == 200, str(unlocked)
    assert unlocked.json == {"user_id": pia.user_id, "was_locked": True, "failures_cleared": 5}

    again = login(api, pia.email)
    assert again.user_id == pia.user_id
    assert api.get("/sessions", token=again.token).status == 200
    locked_log = api.get("/audit-logs", token=admin.token, query={"event_type": "account_locked"})
    assert locked_log.json["items"][0]["target_id"] == pia.user_id
    unlocked_log = api.get("/audit-logs", token=admin.token, query={"event_type": "account_unlocked"})
    assert unlocked_log.json["items"][0]["actor_id"] == admin.user_id


def _name(api: Api, admin: Actor, user_id: str) -> str:
    reply = api.get(f"/users/{user_id}", token=admin.token)
    assert reply.status == 200, str(reply)
    return str(reply.json["name"])


def test_impersonation_start_and_end_with_both_people_on_the_audit_records(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox
) -> None:
    api = http_api
    admin = new_tenant(api, mailbox, _root(local_stack))
    cass = invite_member(api, mailbox, admin, "cashier", "Cass Cashier")

    started = api.post(
        "/impersonations",
        {"user_id": cass.user_id, "reason": "ticket 4711: cannot see her sessions", "duration_minutes": 30},
        token=admin.token,
    )
    assert started.status == 201, str(started)
    imp = started.json
    assert (imp["actor_id"], imp["user_id"], imp["status"]) == (admin.user_id, cass.user_id, "active")

    seen = api.get("/sessions", token=imp["token"])  # a request made as Cass, by the admin
    assert seen.status == 200, str(seen)
    assert {s["user_id"] for s in seen.json["items"]} == {cass.user_id}
    active = api.get("/impersonations", token=admin.token, query={"status": "active"}).json["items"]
    assert [i["impersonation_id"] for i in active] == [imp["impersonation_id"]]

    ended = api.post(f"/impersonations/{imp['impersonation_id']}/end", token=imp["token"])
    assert ended.status == 200, str(ended)
    assert ended.json["status"] == "ended"
    assert ended.json["ended_by"] == admin.user_id
    assert api.get("/sessions", token=imp["token"]).status == 401

    records = api.get("/audit-logs", token=admin.token, query={"event_type": "impersonation"}).json["items"]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_action.setdefault(r["action"], []).append(r)
    assert set(by_action) >= {"impersonation.start", "impersonation.request", "impersonation.end"}
    start = by_action["impersonation.start"][0]
    assert (start["actor_id"], start["target_id"]) == (admin.user_id, cass.user_id)
    assert start["details"]["reason"] == "ticket 4711: cannot see her sessions"
    requests = by_action["impersonation.request"]
    assert {r["details"]["path"] for r in requests} >= {"/sessions"}
    for r in requests:  # each request made while impersonating names both people
        assert (r["actor_id"], r["acting_as_id"]) == (admin.user_id, cass.user_id)
    assert {_name(api, admin, admin.user_id), _name(api, admin, cass.user_id)} == {
        "Olive Owner",
        "Cass Cashier",
    }
    end = by_action["impersonation.end"][0]
    assert end["target_id"] == cass.user_id
    assert end["details"]["actor_id"] == admin.user_id
    # what the admin did as Cass also shows in Cass's own activity, with the admin as the actor
    activity = api.get(f"/users/{cass.user_id}/activity", token=admin.token)
    assert activity.status == 200, str(activity)
    assert any(
        a.get("actor_id") == admin.user_id and a.get("acting_as_id") == cass.user_id
        for a in activity.json["items"]
    )
