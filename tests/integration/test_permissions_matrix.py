"""Every protected operation of identity/security and tenants/users/roles/invitations/data requests:
a caller without the permission gets 403 SAAS_001, a caller of another tenant gets 404 and sees
nothing of the tenant, and neither refusal writes anything.

One world per test (moto is function-scoped); each row is one call. Failures are collected so a
run names every operation that misbehaves, not only the first.
"""

from __future__ import annotations

from typing import Any

from keel.core.errors import NOT_FOUND
from tests.support.actors import Actor
from tests.support.checkout import event_body
from tests.support.http import Api, Reply
from tests.support.world import World, two_tenants

NOT_FOUND_CODES = {code.name for code in NOT_FOUND.values()}


Row = tuple[str, str, str, Any]  # operationId, method, path, body


def _protected(w: World) -> list[Row]:
    """Every protected operation, aimed at tenant A, with a body that is valid."""
    u = w.ph.user_id
    return [
        # identity, sessions and security
        ("get_password_policy", "GET", "/security/password-policy", None),
        ("update_password_policy", "PUT", "/security/password-policy", {"min_length": 10}),
        ("preview_password_policy", "POST", "/security/password-policy/preview", {"min_length": 12}),
        ("force_password_reset", "POST", "/security/force-password-reset", {"user_id": u}),
        ("get_2fa_settings", "GET", "/security/2fa-settings", None),
        ("update_2fa_settings", "PUT", "/security/2fa-settings", {"enforcement": "required"}),
        ("get_session_settings", "GET", "/security/session-settings", None),
        ("update_session_settings", "PUT", "/security/session-settings", {"max_concurrent": 2}),
        ("get_ip_allowlist", "GET", "/security/ip-allowlist", None),
        ("update_ip_allowlist", "PUT", "/security/ip-allowlist", {"entries": ["10.0.0.0/8"]}),
        ("get_impersonation_settings", "GET", "/security/impersonation-settings", None),
        ("update_impersonation_settings", "PUT", "/security/impersonation-settings", {"enabled": False}),
        ("list_suspicious_activity", "GET", "/security/suspicious-activity", None),
        ("reset_user_2fa", "POST", f"/users/{u}/2fa/reset", None),
        ("unlock_user", "POST", f"/users/{u}/unlock", None),
        ("admin_reset_password", "POST", f"/users/{u}/password-reset", {"mode": "email"}),
        ("start_impersonation", "POST", "/impersonations", {"user_id": u, "reason": "ticket 99: help"}),
        ("end_impersonation", "POST", f"/impersonations/{w.impersonation_id}/end", None),
        ("list_impersonations", "GET", "/impersonations", None),
        ("list_audit_logs", "GET", "/audit-logs", None),
        ("export_audit_logs", "GET", "/audit-logs/export", None),
        # tenants, users, roles, invitations, data requests
        ("get_tenant", "GET", f"/tenants/{w.boss.tenant_id}", None),
        ("list_users", "GET", "/users", None),
        ("create_user", "POST", "/users", {"email": "n@acme.example.com", "name": "N", "role": "cashier"}),
        ("get_user", "GET", f"/users/{u}", None),
        ("update_user", "PATCH", f"/users/{u}", {"name": "Renamed"}),
        ("list_user_activity", "GET", f"/users/{u}/activity", None),
        ("change_user_role", "POST", f"/users/{u}/role", {"role": "technician", "reason": "stock take"}),
        ("list_role_history", "GET", f"/users/{u}/role-history", None),
        (
            "bulk_change_roles",
            "POST",
            "/users/bulk-role-changes",
            {"user_ids": [u], "role": "technician", "reason": "stock take"},
        ),
        ("suspend_user", "POST", f"/users/{u}/suspend", {"reason": "other"}),
        ("unsuspend_user", "POST", f"/users/{u}/unsuspend", {"reason": "back again"}),
        ("list_roles", "GET", "/roles", None),
        (
            "create_role",
            "POST",
            "/roles",
            {"name": "day_shift", "label": "Day", "permissions": ["profile:self"]},
        ),
        ("update_role", "PATCH", "/roles/night_shift", {"label": "Nights"}),
        ("create_invitation", "POST", "/invitations", {"email": "x@acme.example.com", "role": "cashier"}),
        ("list_invitations", "GET", "/invitations", None),
        ("resend_invitation", "POST", f"/invitations/{w.invitation_id}/resend", None),
        ("revoke_invitation", "POST", f"/invitations/{w.invitation_id}/revoke", None),
        ("export_user_data", "GET", f"/users/{u}/data-export", None),
        ("delete_user_data", "POST", f"/users/{u}/data-deletion", {"reason": "GDPR request 7"}),
        ("export_contact_data", "POST", "/contact-data/export", {"email": "buyer@shop.example.com"}),
        (
            "delete_contact_data",
            "POST",
            "/contact-data/deletion",
            {"email": "buyer@shop.example.com", "reason": "GDPR request 8"},
        ),
        # webhooks (issue 11)
        ("list_webhook_endpoints", "GET", "/webhooks/endpoints", None),
        (
            "create_webhook_endpoint",
            "POST",
            "/webhooks/endpoints",
            {"url": "https://93.184.215.14/in", "event_types": ["user.*"]},
        ),
        (
            "update_webhook_endpoint",
            "PATCH",
            f"/webhooks/endpoints/{w.webhook_endpoint_id}",
            {"description": "x"},
        ),
        ("delete_webhook_endpoint", "DELETE", f"/webhooks/endpoints/{w.webhook_endpoint_id}", None),
        ("rotate_webhook_secret", "POST", f"/webhooks/endpoints/{w.webhook_endpoint_id}/rotate-secret", {}),
        ("test_webhook_endpoint", "POST", f"/webhooks/endpoints/{w.webhook_endpoint_id}/test", {}),
        ("list_webhook_deliveries", "GET", "/webhooks/deliveries", None),
        ("get_webhook_delivery", "GET", f"/webhooks/deliveries/{w.webhook_delivery_id}", None),
        ("retry_webhook_delivery", "POST", f"/webhooks/deliveries/{w.webhook_delivery_id}/retry", None),
        (
            "retry_failed_webhook_deliveries",
            "POST",
            "/webhooks/deliveries/retry-failed",
            {"since": "2020-01-01T00:00:00Z", "until": "2020-01-20T00:00:00Z"},
        ),
        ("get_webhook_stats", "GET", "/webhooks/stats", None),
        ("list_deletion_log", "GET", "/deletion-log", None),
        # payments (issue 12): ids of the shapes the API uses (test_payments.py uses real ones)
        ("list_payments", "GET", "/payments", None),
        ("get_payment", "GET", "/payments/pay_0123456789abcdef0123456789", None),
        ("refund_payment", "POST", "/payments/pay_0123456789abcdef0123456789/refunds", {"amount": 1}),
        ("find_duplicate_payments", "GET", "/duplicate-payments", None),
        ("list_invoices", "GET", "/invoices", None),
        ("get_invoice", "GET", "/invoices/INV-1", None),
        ("mark_invoice_paid", "POST", "/invoices/INV-1/mark-paid", {"reason": "paid by transfer"}),
        ("list_billing_events", "GET", "/billing-events", None),
        ("list_subscriptions", "GET", "/subscriptions", None),
        ("get_subscription", "GET", "/subscriptions/sbs_1", None),
        ("change_subscription_plan", "POST", "/subscriptions/sbs_1/plan", {"plan_id": "starter"}),
        ("cancel_subscription", "POST", "/subscriptions/sbs_1/cancel", {"at_period_end": True}),
        ("renew_subscription", "POST", "/subscriptions/sbs_1/renew", None),
        # notifications (issue 10)
        *_notify_rows(w),
    ]


def _notify_rows(w: World) -> list[Row]:
    from tests.integration.test_cross_tenant import NOTIFY_BODIES

    n, b = w.notify, NOTIFY_BODIES
    return [
        ("list_channels", "GET", "/notifications/channels", None),
        ("update_channel", "PUT", "/notifications/channels", b["update_channel"]),
        ("test_channel", "POST", "/notifications/channels/test", b["test_channel"]),
        ("get_channel_status", "GET", "/notifications/channels/status", None),
        ("list_templates", "GET", "/notifications/templates", None),
        ("create_template", "POST", "/notifications/templates", b["create_template"]),
        (
            "preview_template",
            "POST",
            "/notifications/templates/preview",
            {"template_id": n.get("template_id")},
        ),
        (
            "update_template",
            "PATCH",
            f"/notifications/templates/{n.get('template_id')}",
            b["update_template"],
        ),
        ("delete_template", "DELETE", f"/notifications/templates/{n.get('template_id')}", None),
        ("list_notification_rules", "GET", "/notifications/rules", None),
        ("create_notification_rule", "POST", "/notifications/rules", b["create_notification_rule"]),
        ("update_notification_rule", "PATCH", f"/notifications/rules/{n.get('rule_id')}", {"active": False}),
        ("delete_notification_rule", "DELETE", f"/notifications/rules/{n.get('rule_id')}", None),
        (
            "test_notification_rule",
            "POST",
            f"/notifications/rules/{n.get('rule_id')}/test",
            b["test_notification_rule"],
        ),
        (
            "send_notification",
            "POST",
            "/notifications/send",
            {"user_id": w.ph.user_id, "channels": ["in_app"], "body": "Hi"},
        ),
        ("send_bulk_notification", "POST", "/notifications/bulk", b["send_bulk_notification"]),
        ("list_scheduled_notifications", "GET", "/notifications/scheduled", None),
        (
            "cancel_scheduled_notification",
            "POST",
            f"/notifications/scheduled/{n.get('send_id')}/cancel",
            None,
        ),
        ("list_notification_history", "GET", "/notifications/history", None),
        ("resend_notification", "POST", f"/notifications/history/{n.get('notification_id')}/resend", None),
    ]


def _session_rows(w: World) -> list[Row]:
    """Operations everyone may use on their own things, refused on someone else's."""
    return [
        ("list_sessions", "GET", "/sessions", None),
        ("terminate_session", "POST", f"/sessions/{w.boss_session}/terminate", {"reason": "lost phone"}),
        (
            "terminate_sessions",
            "POST",
            "/sessions/terminate",
            {"reason": "compromise", "user_id": w.boss.user_id},
        ),
    ]


# checkout (issue 13): workshop permissions, held by no pharmacy role (403 here); another workshop
# tenant's 404s are in tests/integration/test_checkout_inventory.py
_CITY = "/events/dallas-jan-2026"
CHECKOUT: list[Row] = [
    ("create_event", "POST", "/events", event_body()),
    ("list_events", "GET", "/events", None),
    ("update_event", "PATCH", _CITY, {"venue": "Elsewhere"}),
    ("list_inventory_transactions", "GET", f"{_CITY}/inventory/transactions", None),
    ("audit_inventory", "GET", f"{_CITY}/inventory/audit", None),
    (
        "expand_inventory",
        "POST",
        f"{_CITY}/inventory/expansions",
        {"tier": "GA", "additional_spots": 5, "reason": "Bigger room"},
    ),
    (
        "correct_inventory",
        "POST",
        f"{_CITY}/inventory/corrections",
        {"tier": "GA", "counts": {"actual_limit": 5, "held": 0, "sold": 0}, "reason": "Audit"},
    ),
    ("list_registrations", "GET", f"{_CITY}/registrations", None),
    ("list_oversold_registrations", "GET", f"{_CITY}/registrations/oversold", None),
    ("notify_oversold_registrations", "POST", f"{_CITY}/registrations/oversold/notify", None),
]


PLATFORM: list[Row] = [
    (
        "create_tenant",
        "POST",
        "/tenants",
        {"name": "Mine Co", "admin": {"email": "m@m.example.com", "name": "M"}},
    ),
    ("list_tenants", "GET", "/tenants", None),
    # flags: platform-managed
    ("list_flags", "GET", "/flags", None),
    ("create_flag", "POST", "/flags", {"key": "mine", "name": "Mine", "category": "ui"}),
    ("get_flag", "GET", "/flags/new-checkout", None),
    ("update_flag", "PATCH", "/flags/new-checkout", {"name": "Mine"}),
    ("archive_flag", "POST", "/flags/new-checkout/archive", {"note": "mine"}),
    ("toggle_flag", "POST", "/flags/new-checkout/toggle", {"on": True, "note": "mine now"}),
    ("update_flag_targeting", "PUT", "/flags/new-checkout/targeting", {"targeting": {"rules": []}}),
    ("preview_flag_targeting", "POST", "/flags/new-checkout/targeting/preview", {"targeting": {"rules": []}}),
    ("list_flag_history", "GET", "/flags/new-checkout/history", None),
    ("get_flag_metrics", "GET", "/flags/new-checkout/metrics", None),
    (
        "schedule_flag_change",
        "POST",
        "/flags/new-checkout/schedules",
        {"run_at": "2030-01-01T00:00:00Z", "action": "toggle", "on": True, "note": "mine"},
    ),
    ("list_scheduled_flag_changes", "GET", "/flags/new-checkout/schedules", None),
    ("cancel_scheduled_flag_change", "DELETE", "/flags/new-checkout/schedules/fch_x", None),
    ("refresh_flag_cache", "POST", "/flag-cache/refresh", None),
    # payments (issue 12)
    (
        "create_plan",
        "POST",
        "/plans",
        {"plan_id": "mine", "name": "Mine", "price": 1, "currency": "USD", "limits": {"max_users": 5}},
    ),
    ("update_plan", "PATCH", "/plans/starter", {"price": 1}),
    ("list_gateway_events", "GET", "/gateway-events", None),
    ("reprocess_gateway_event", "POST", "/gateway-events/gwe_1/reprocess", None),
    ("get_gateway_status", "GET", "/gateway-status", None),
    ("reconcile_subscriptions", "POST", "/billing/reconcile", None),
]
# Evaluated for the caller's own session by anyone signed in (test_flags.py, test_cross_tenant.py).
EVERYONE = {"ofrep_evaluate_flag"}


# users:read, roles:read, tenants:read, and their own profile (the rows aim at the pharmacist)
PHARMACIST_MAY = {
    "get_tenant",
    "list_users",
    "get_user",
    "update_user",
    "list_user_activity",
    "list_role_history",
    "list_roles",
    "export_user_data",
}
BODY_TENANT = {"force_password_reset", "start_impersonation", "terminate_sessions"}


def _call(
    api: Api, method: str, path: str, body: Any, token: str, query: dict[str, Any] | None = None
) -> Reply:
    return api.call(method, path, json_body=body, token=token, query=query)


def test_a_role_without_the_permission_gets_403_and_nothing_is_written(api: Api) -> None:
    w = two_tenants(api)
    platform = [*PLATFORM, ("update_tenant", "PATCH", f"/tenants/{w.boss.tenant_id}", {"name": "Xx"})]
    own_user = {"user_id": w.boss.user_id}
    calls: list[tuple[str, Actor, Row, dict[str, Any] | None]] = [
        *(("cashier", w.cashier, row, None) for row in _protected(w) + platform + CHECKOUT),
        *(("pharmacy manager", w.boss, row, None) for row in CHECKOUT),
        # a staff role holding some read permissions: refused everything else
        *(("pharmacist", w.ph, row, None) for row in _protected(w) if row[0] not in PHARMACIST_MAY),
        # everyone's own sessions yes, another user's no
        *(("cashier", w.cashier, row, own_user if row[1] == "GET" else None) for row in _session_rows(w)),
        # a tenant admin lacks the platform permission
        *(("tenant admin", w.boss, row, None) for row in platform),
    ]
    before = api.stack.scan()
    wrong = []
    for who, actor, (op, method, path, body), query in calls:
        reply = _call(api, method, path, body, actor.token, query)
        if (reply.status, reply.code) != (403, "SAAS_001"):
            wrong.append(f"{op} ({who}): {reply.status} {reply.text[:160]}")
    assert not wrong, "\n".join(wrong)
    assert api.stack.scan() == before


def test_another_tenants_ids_are_404_leak_nothing_and_write_nothing(api: Api) -> None:
    w = two_tenants(api)
    a = {"tenant_id": w.boss.tenant_id}
    secrets = [w.boss.tenant_id, w.boss.email, w.ph.email, "Acme"]
    before = api.stack.scan()
    wrong = []

    def check(label: str, reply: Reply) -> None:
        if reply.status != 404 or reply.code not in NOT_FOUND_CODES:
            wrong.append(f"{label}: {reply.status} {reply.text[:160]}")
        elif any(s in reply.text for s in secrets):
            wrong.append(f"{label}: leaks {reply.text[:160]}")

    for op, method, path, body in _protected(w) + _session_rows(w):
        if op in BODY_TENANT:
            continue  # below: these name the tenant in the body
        if op == "get_tenant":
            check(op, _call(api, method, path, body, w.other.token))
            continue
        # naming tenant A in the query, and (where an id is in the path) the bare id from tenant B
        check(f"{op}?tenant_id", _call(api, method, path, body, w.other.token, a))
        ids = (w.ph.user_id, w.invitation_id, w.boss_session, w.impersonation_id, w.webhook_endpoint_id)
        if any(x in path for x in (*ids, w.webhook_delivery_id)):
            check(f"{op} (id only)", _call(api, method, path, body, w.other.token))
    # operations that take the tenant in the body
    for op, path, body in [
        ("force_password_reset", "/security/force-password-reset", {"user_id": w.ph.user_id, **a}),
        ("force_password_reset (id only)", "/security/force-password-reset", {"user_id": w.ph.user_id}),
        ("force_password_reset (tenant)", "/security/force-password-reset", a),
        ("start_impersonation", "/impersonations", {"user_id": w.ph.user_id, "reason": "ticket 1: x", **a}),
        (
            "start_impersonation (id only)",
            "/impersonations",
            {"user_id": w.ph.user_id, "reason": "ticket 1: x"},
        ),
        (
            "terminate_sessions",
            "/sessions/terminate",
            {"reason": "compromise", "user_id": w.boss.user_id, **a},
        ),
        (
            "terminate_sessions (ids)",
            "/sessions/terminate",
            {"reason": "compromise", "session_ids": [w.boss_session]},
        ),
    ]:
        check(op, api.post(path, body, token=w.other.token))
    assert not wrong, "\n".join(wrong)
    assert api.stack.scan() == before
    # bulk operations naming A's users from B find nobody: A is untouched
    bulk = api.post(
        "/users/bulk-role-changes",
        {"user_ids": [w.ph.user_id], "role": "cashier", "reason": "stock take"},
        token=w.other.token,
    )
    assert bulk.json["results"][0]["code"] == "SAAS_002"
    ended = api.post(
        "/sessions/terminate", {"reason": "compromise", "user_id": w.ph.user_id}, token=w.other.token
    )
    assert ended.json["terminated"] == 0
    assert api.get("/sessions", token=w.ph.token).status == 200
    assert api.get(f"/users/{w.ph.user_id}", token=w.boss.token).json["role"] == "pharmacist"


def test_every_non_public_operation_has_a_row() -> None:
    """A new protected route cannot be forgotten: it needs a row above (or is the caller's own)."""
    from tests.support.spec import SELF_ONLY, operations

    a = Actor("tok", "usr_a", "ten_a", "a@a.example.com")
    w = World(a, a, a, a, a, "inv_a", "ses_a", "imp_a")
    rows = {r[0] for r in [*_protected(w), *_session_rows(w), *PLATFORM, *CHECKOUT]} | {
        "update_tenant",
        "list_plans",
    }
    secured = {op["operationId"] for op in operations() if not op["public"]}
    assert secured - SELF_ONLY - EVERYONE - rows == set(), "operations without a permission row"
    assert rows <= secured, "rows for operations that no longer exist"
