"""Bad input to every identity/security and tenants/users operation: a 4xx with an error code, and
nothing written. Public operations (no caller) included; one world per test, one call per row."""

from __future__ import annotations

from typing import Any

from keel.core import clock
from tests.support.actors import PASSWORD, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.people import invite, member
from tests.support.pipeline import Pipeline

FAKE = "x" * 40  # a well-formed token no link was ever issued for
# (operationId, method, path, body, query, expected status, expected code)
Row = tuple[str, str, str, Any, dict[str, Any] | None, int, str]


def _check(api: Api, token: str | None, rows: list[Row]) -> list[str]:
    wrong = []
    for op, method, path, body, query, status, code in rows:
        reply = api.call(method, path, json_body=body, token=token, query=query)
        if (reply.status, reply.code) != (status, code):
            wrong.append(f"{op} {method} {path} {body} {query}: {reply.status} {reply.text[:200]}")
    return wrong


def test_public_operations_refuse_bad_input_and_write_nothing(api: Api) -> None:
    clock.freeze()
    super_admin(api)
    rows: list[Row] = [
        ("login", "POST", "/auth/login", {"email": "nope", "password": "x"}, None, 422, "API_007"),
        ("login", "POST", "/auth/login", {"email": "a@b.example.com"}, None, 422, "API_007"),
        (
            "login",
            "POST",
            "/auth/login",
            {"email": "a@b.example.com", "password": "p", "x": 1},
            None,
            422,
            "API_007",
        ),
        (
            "login",
            "POST",
            "/auth/login",
            {"email": "a@b.example.com", "password": "p", "two_factor_method": "fax"},
            None,
            422,
            "API_007",
        ),
        (
            "verify_2fa",
            "POST",
            "/auth/2fa/verify",
            {"challenge_token": "short", "code": "1"},
            None,
            422,
            "API_007",
        ),
        (
            "verify_2fa",
            "POST",
            "/auth/2fa/verify",
            {"challenge_token": FAKE, "code": "123456", "method": "fax"},
            None,
            422,
            "API_007",
        ),
        ("request_password_reset", "POST", "/auth/password/forgot", {"email": "nope"}, None, 422, "API_007"),
        ("request_password_reset", "POST", "/auth/password/forgot", {}, None, 422, "API_007"),
        ("reset_password", "POST", "/auth/password/reset", {"token": FAKE}, None, 422, "API_007"),
        (
            "reset_password",
            "POST",
            "/auth/password/reset",
            {"token": FAKE, "new_password": "a-brand-new-passphrase"},
            None,
            410,
            "SAAS_012",
        ),
        ("activate_account", "POST", "/auth/activate", {"token": FAKE}, None, 422, "API_007"),
        (
            "activate_account",
            "POST",
            "/auth/activate",
            {"token": FAKE, "password": PASSWORD, "admin": True},
            None,
            422,
            "API_007",
        ),
        (
            "activate_account",
            "POST",
            "/auth/activate",
            {"token": FAKE, "password": PASSWORD},
            None,
            410,
            "SAAS_012",
        ),
        ("resend_activation", "POST", "/auth/activation/resend", {"email": "nope"}, None, 422, "API_007"),
        ("accept_invitation", "POST", "/invitations/accept", {"token": FAKE}, None, 422, "API_007"),
        (
            "accept_invitation",
            "POST",
            "/invitations/accept",
            {"token": FAKE, "password": PASSWORD},
            None,
            410,
            "SAAS_012",
        ),
    ]
    before = api.stack.scan()
    wrong = _check(api, None, rows)
    bad_json = api.call("POST", "/auth/login", raw_body="{not json")
    if (bad_json.status, bad_json.code) != (400, "API_005"):
        wrong.append(f"login (invalid JSON): {bad_json.status} {bad_json.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert api.stack.scan() == before


def test_a_refused_activation_keeps_the_link_usable(api: Api) -> None:
    root = super_admin(api)
    api.post(
        "/tenants", {"name": "Slow Co", "admin": {"email": "s@co.example.com", "name": "S"}}, token=root.token
    )
    Pipeline(api.stack).run()
    token = mailed_token(api, "s@co.example.com")
    before = api.stack.scan()
    weak = api.post("/auth/activate", {"token": token, "password": "password1"})
    assert (weak.status, weak.code, weak.json["error"]["details"][0]["field"]) == (422, "API_007", "password")
    assert api.stack.scan() == before
    assert api.post("/auth/activate", {"token": token, "password": PASSWORD}).status == 200


def test_protected_operations_refuse_bad_input_and_write_nothing(api: Api) -> None:
    clock.freeze()
    root = super_admin(api)
    boss = tenant_admin(api, root)
    ph = member(api, boss, "ph@acme.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    inv = invite(api, boss, "pending@acme.example.com")["invitation_id"]
    api.post(
        "/roles", {"name": "night_shift", "label": "Night", "permissions": ["profile:self"]}, token=boss.token
    )
    imp = api.post(
        "/impersonations", {"user_id": cashier.user_id, "reason": "ticket 12: tills"}, token=boss.token
    ).json["impersonation_id"]
    api.post(f"/impersonations/{imp}/end", token=boss.token)
    api.post(f"/invitations/{inv}/revoke", token=boss.token)
    u = ph.user_id
    rows: list[Row] = [
        # identity, sessions and security
        (
            "change_password",
            "POST",
            "/auth/password/change",
            {"current_password": PASSWORD},
            None,
            422,
            "API_007",
        ),
        ("enroll_2fa", "POST", "/auth/2fa/enroll", {"method": "pigeon"}, None, 422, "API_007"),
        (
            "confirm_2fa_enrollment",
            "POST",
            "/auth/2fa/confirm",
            {"method": "totp", "code": "1"},
            None,
            422,
            "API_007",
        ),
        (
            "confirm_2fa_enrollment",
            "POST",
            "/auth/2fa/confirm",
            {"method": "totp", "code": "123456"},
            None,
            401,
            "AUTH_006",
        ),
        ("generate_backup_codes", "POST", "/auth/2fa/backup-codes", None, None, 409, "SAAS_011"),
        ("update_2fa_settings", "PUT", "/security/2fa-settings", {"methods": []}, None, 422, "API_007"),
        (
            "update_2fa_settings",
            "PUT",
            "/security/2fa-settings",
            {"grace_period_days": 365},
            None,
            422,
            "API_007",
        ),
        ("reset_user_2fa", "POST", "/users/usr_nope/2fa/reset", None, None, 404, "SAAS_002"),
        ("update_password_policy", "PUT", "/security/password-policy", {"history": 99}, None, 422, "API_007"),
        (
            "preview_password_policy",
            "POST",
            "/security/password-policy/preview",
            {"min_length": 4},
            None,
            422,
            "API_007",
        ),
        (
            "preview_password_policy",
            "POST",
            "/security/password-policy/preview",
            {"min_len": 9},
            None,
            422,
            "API_007",
        ),
        (
            "force_password_reset",
            "POST",
            "/security/force-password-reset",
            {"user_id": "usr_nope"},
            None,
            404,
            "SAAS_002",
        ),
        (
            "force_password_reset",
            "POST",
            "/security/force-password-reset",
            {"user_id": u, "effective_at": "2030-01-01T00:00:00Z"},
            None,
            422,
            "API_007",
        ),
        (
            "force_password_reset",
            "POST",
            "/security/force-password-reset",
            {"effective_at": "someday"},
            None,
            422,
            "API_007",
        ),
        (
            "update_session_settings",
            "PUT",
            "/security/session-settings",
            {"idle_timeout_minutes": 0},
            None,
            422,
            "API_007",
        ),
        (
            "update_session_settings",
            "PUT",
            "/security/session-settings",
            {"max_duration_minutes": "long"},
            None,
            422,
            "API_007",
        ),
        ("list_sessions", "GET", "/sessions", None, {"limit": 0}, 422, "API_007"),
        (
            "terminate_session",
            "POST",
            "/sessions/ses_nope/terminate",
            {"reason": "lost phone"},
            None,
            404,
            "SAAS_016",
        ),
        ("terminate_session", "POST", "/sessions/ses_nope/terminate", {"reason": "x"}, None, 422, "API_007"),
        ("terminate_sessions", "POST", "/sessions/terminate", {"reason": "compromise"}, None, 422, "API_007"),
        (
            "terminate_sessions",
            "POST",
            "/sessions/terminate",
            {"reason": "compromise", "session_ids": ["ses_nope"]},
            None,
            404,
            "SAAS_016",
        ),
        ("unlock_user", "POST", "/users/usr_nope/unlock", None, None, 404, "SAAS_002"),
        (
            "list_suspicious_activity",
            "GET",
            "/security/suspicious-activity",
            None,
            {"kind": "aliens"},
            422,
            "API_007",
        ),
        ("update_ip_allowlist", "PUT", "/security/ip-allowlist", {"entries": ["nope"]}, None, 422, "API_007"),
        ("update_ip_allowlist", "PUT", "/security/ip-allowlist", {"window_minutes": 0}, None, 422, "API_007"),
        (
            "start_impersonation",
            "POST",
            "/impersonations",
            {"user_id": cashier.user_id, "reason": "x"},
            None,
            422,
            "API_007",
        ),
        (
            "start_impersonation",
            "POST",
            "/impersonations",
            {"user_id": boss.user_id, "reason": "ticket 3: me"},
            None,
            422,
            "API_007",
        ),
        (
            "start_impersonation",
            "POST",
            "/impersonations",
            {"user_id": "usr_nope", "reason": "ticket 3: who"},
            None,
            404,
            "SAAS_002",
        ),
        ("end_impersonation", "POST", "/impersonations/imp_nope/end", None, None, 404, "SAAS_017"),
        ("end_impersonation", "POST", f"/impersonations/{imp}/end", None, None, 409, "SAAS_011"),
        ("list_impersonations", "GET", "/impersonations", None, {"status": "paused"}, 422, "API_007"),
        (
            "update_impersonation_settings",
            "PUT",
            "/security/impersonation-settings",
            {"max_minutes": 300},
            None,
            422,
            "API_007",
        ),
        (
            "update_impersonation_settings",
            "PUT",
            "/security/impersonation-settings",
            {"rules": [{"actor_role": "manager", "target_roles": []}]},
            None,
            422,
            "API_007",
        ),
        (
            "update_impersonation_settings",
            "PUT",
            "/security/impersonation-settings",
            {"colour": "red"},
            None,
            422,
            "API_007",
        ),
        ("list_audit_logs", "GET", "/audit-logs", None, {"severity": "apocalyptic"}, 422, "API_007"),
        ("list_audit_logs", "GET", "/audit-logs", None, {"since": "yesterday"}, 422, "API_007"),
        ("export_audit_logs", "GET", "/audit-logs/export", None, {"format": "xml"}, 422, "API_007"),
        # tenants, users, roles, invitations, data requests
        ("list_users", "GET", "/users", None, {"status": "sleeping"}, 422, "API_007"),
        ("list_users", "GET", "/users", None, {"registered_from": "soon"}, 422, "API_007"),
        ("get_user", "GET", "/users/usr_nope", None, None, 404, "SAAS_002"),
        ("update_user", "PATCH", f"/users/{u}", {"phone": "call me"}, None, 422, "API_007"),
        (
            "create_user",
            "POST",
            "/users",
            {"email": "a@acme.example.com", "name": "A", "role": "wizard"},
            None,
            422,
            "API_007",
        ),
        ("list_user_activity", "GET", f"/users/{u}/activity", None, {"kind": "everything"}, 422, "API_007"),
        ("change_user_role", "POST", f"/users/{u}/role", {"role": "cashier"}, None, 422, "API_007"),
        (
            "change_user_role",
            "POST",
            "/users/usr_nope/role",
            {"role": "cashier", "reason": "because"},
            None,
            404,
            "SAAS_002",
        ),
        ("list_role_history", "GET", f"/users/{u}/role-history", None, {"limit": 0}, 422, "API_007"),
        ("list_role_history", "GET", "/users/usr_nope/role-history", None, None, 404, "SAAS_002"),
        (
            "bulk_change_roles",
            "POST",
            "/users/bulk-role-changes",
            {"user_ids": [], "role": "cashier", "reason": "because"},
            None,
            422,
            "API_007",
        ),
        ("suspend_user", "POST", f"/users/{u}/suspend", {"reason": "grumpy"}, None, 422, "API_007"),
        ("suspend_user", "POST", "/users/usr_nope/suspend", {"reason": "other"}, None, 404, "SAAS_002"),
        ("unsuspend_user", "POST", f"/users/{u}/unsuspend", {}, None, 422, "API_007"),
        (
            "unsuspend_user",
            "POST",
            f"/users/{u}/unsuspend",
            {"reason": "not suspended"},
            None,
            409,
            "SAAS_011",
        ),
        (
            "admin_reset_password",
            "POST",
            f"/users/{u}/password-reset",
            {"mode": "carrier-pigeon"},
            None,
            422,
            "API_007",
        ),
        (
            "create_role",
            "POST",
            "/roles",
            {"name": "Bad Name!", "label": "Bad", "permissions": ["profile:self"]},
            None,
            422,
            "API_007",
        ),
        ("update_role", "PATCH", "/roles/night_shift", {"permissions": ["rule:world"]}, None, 422, "API_007"),
        ("update_role", "PATCH", "/roles/night_shift", {"permissions": []}, None, 422, "API_007"),
        (
            "create_invitation",
            "POST",
            "/invitations",
            {"email": "nope", "role": "cashier"},
            None,
            422,
            "API_007",
        ),
        ("list_invitations", "GET", "/invitations", None, {"status": "lost"}, 422, "API_007"),
        ("resend_invitation", "POST", "/invitations/inv_nope/resend", None, None, 404, "SAAS_015"),
        ("resend_invitation", "POST", f"/invitations/{inv}/resend", None, None, 409, "SAAS_011"),
        ("revoke_invitation", "POST", "/invitations/inv_nope/revoke", None, None, 404, "SAAS_015"),
        ("export_user_data", "GET", "/users/usr_nope/data-export", None, None, 404, "SAAS_002"),
        ("delete_user_data", "POST", f"/users/{u}/data-deletion", {"reason": "x"}, None, 422, "API_007"),
        (
            "delete_user_data",
            "POST",
            "/users/usr_nope/data-deletion",
            {"reason": "GDPR 7"},
            None,
            404,
            "SAAS_002",
        ),
        ("list_deletion_log", "GET", "/deletion-log", None, {"limit": 0}, 422, "API_007"),
        ("export_contact_data", "POST", "/contact-data/export", {"email": "nope"}, None, 422, "API_007"),
        (
            "delete_contact_data",
            "POST",
            "/contact-data/deletion",
            {"email": "b@shop.example.com", "reason": "x"},
            None,
            422,
            "API_007",
        ),
    ]
    platform: list[Row] = [
        (
            "create_tenant",
            "POST",
            "/tenants",
            {"name": "x", "admin": {"email": "nope", "name": ""}},
            None,
            422,
            "API_007",
        ),
        ("list_tenants", "GET", "/tenants", None, {"limit": 5000}, 422, "API_007"),
        ("get_tenant", "GET", "/tenants/ten_nope", None, None, 404, "SAAS_013"),
        (
            "update_tenant",
            "PATCH",
            f"/tenants/{boss.tenant_id}",
            {"plan": "Not A Plan!"},
            None,
            422,
            "API_007",
        ),
        (
            "update_tenant",
            "PATCH",
            f"/tenants/{boss.tenant_id}",
            {"limits": {"max_users": 0}},
            None,
            422,
            "API_007",
        ),
        ("update_tenant", "PATCH", f"/tenants/{boss.tenant_id}", {"status": "gone"}, None, 422, "API_007"),
        ("update_tenant", "PATCH", "/tenants/ten_nope", {"name": "Ghost"}, None, 404, "SAAS_013"),
    ]
    before = api.stack.scan()
    wrong = _check(api, boss.token, rows) + _check(api, root.token, platform)
    assert not wrong, "\n".join(wrong)
    assert api.stack.scan() == before
    # a wrong current password is refused the same way, and only its failure is audited
    wrong_current = api.post(
        "/auth/password/change",
        {"current_password": "not-my-password", "new_password": "a-brand-new-passphrase"},
        token=ph.token,
    )
    assert (wrong_current.status, wrong_current.code) == (422, "API_007")
    added = [i for i in api.stack.scan() if i not in before]
    assert [(i["entity"], i["event_type"]) for i in added] == [("audit", "password_change_failed")]
