"""Tenant isolation over EVERY operation of the committed spec, found automatically.

Each non-public operationId is called by tenant B's admin with tenant A's identifiers: path
parameters filled with ids that exist in A (user, invitation, session, impersonation, role,
tenant), `tenant_id=A` where the operation takes it, A's ids in the body where it names users or
sessions. Every call must be refused (403/404), leak nothing of A and write nothing. A new
operation with a path parameter, a body or a query `tenant_id` the table below does not know
fails the first test: no route can be forgotten.
"""

from __future__ import annotations

from typing import Any

from keel.core.errors import NOT_FOUND
from tests.support.actors import Actor
from tests.support.checkout import event_body
from tests.support.http import Api, Reply
from tests.support.spec import SELF_ONLY, operations
from tests.support.world import World, two_tenants

NOT_FOUND_CODES = {code.name for code in NOT_FOUND.values()}
SELF = SELF_ONLY
# Platform staff only: a tenant admin is refused whatever they name.
PLATFORM = {"list_tenants", "create_tenant", "update_tenant"}
# flags: platform-managed (a tenant admin is refused 403 whatever they name)
PLATFORM |= {
    "list_flags",
    "create_flag",
    "refresh_flag_cache",
}
# payments (issue 12): the plan catalogue, gateway events, status and reconciliation are the platform's
PLATFORM |= {
    "create_plan",
    "update_plan",
    "list_gateway_events",
    "reprocess_gateway_event",
    "get_gateway_status",
    "reconcile_subscriptions",
}
SELF = SELF | {"list_plans"}  # the catalogue: the same for every tenant, no tenant's data


def _params(op: dict[str, Any], where: str) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == where}


def _fillers(v: World) -> dict[str, str]:
    """Path parameter -> an id that exists in tenant A."""
    return {
        "user_id": v.ph.user_id,
        "invitation_id": v.invitation_id,
        "session_id": v.boss_session,
        "impersonation_id": v.impersonation_id,
        "role": v.role,
        "tenant_id": v.boss.tenant_id,
        # notifications (issue 10)
        "template_id": v.notify.get("template_id", "tpl_a"),
        "rule_id": v.notify.get("rule_id", "nrl_a"),
        "send_id": v.notify.get("send_id", "nsd_a"),
        "notification_id": v.notify.get("notification_id", "ntf_a"),
        # checkout (issue 13): a workshop city (A is a pharmacy: refused before any lookup)
        "city_id": "dallas-jan-2026",
        # webhooks (issue 11)
        "endpoint_id": v.webhook_endpoint_id,
        "delivery_id": v.webhook_delivery_id,
        # flags are platform-wide: any key (the caller is refused before it is looked up)
        "key": "new-checkout",
        "change_id": "fch_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        # payments (issue 12): the ids' shapes (tests/integration/test_payments.py uses real ones of A)
        "payment_id": "pay_0123456789abcdef0123456789",
        "invoice_id": "INV-1",
        "subscription_id": "sbs_01J00000000000000000000000",
        "receipt_id": "gwe_01J00000000000000000000000",
        "plan_id": "starter",
    }


def _bodies(v: World) -> dict[str, Any]:
    """A valid body for every operation that takes one (naming A's ids where the body names any)."""
    u = v.ph.user_id
    return {
        "force_password_reset": {"user_id": u},
        "update_2fa_settings": {"enforcement": "required"},
        "update_session_settings": {"max_concurrent": 2},
        "update_ip_allowlist": {"entries": ["10.0.0.0/8"]},
        "update_impersonation_settings": {"enabled": False},
        "update_password_policy": {"min_length": 10},
        "preview_password_policy": {"min_length": 12},
        "admin_reset_password": {"mode": "email"},
        "start_impersonation": {"user_id": u, "reason": "ticket 99: help"},
        "terminate_sessions": {"reason": "compromise", "session_ids": [v.boss_session]},
        "terminate_session": {"reason": "lost phone"},
        "create_user": {"email": "n@acme.example.com", "name": "N", "role": "cashier"},
        "update_user": {"name": "Renamed"},
        "change_user_role": {"role": "technician", "reason": "stock take"},
        "bulk_change_roles": {"user_ids": [u], "role": "technician", "reason": "stock take"},
        "suspend_user": {"reason": "other"},
        "unsuspend_user": {"reason": "back again"},
        "create_role": {"name": "day_shift", "label": "Day", "permissions": ["profile:self"]},
        "update_role": {"label": "Nights"},
        "create_invitation": {"email": "x@acme.example.com", "role": "cashier"},
        "delete_user_data": {"reason": "GDPR request 7"},
        "export_contact_data": {"email": "buyer0@shop.example.com"},
        "delete_contact_data": {"email": "buyer0@shop.example.com", "reason": "GDPR request 8"},
        "update_tenant": {"name": "Mine now"},
        "create_tenant": {"name": "Mine Co", "admin": {"email": "m@m.example.com", "name": "M"}},
        # notifications (issue 10)
        **NOTIFY_BODIES,
        "preview_template": {"template_id": v.notify.get("template_id", "tpl_a")},
        "send_notification": {"user_id": u, "channels": ["in_app"], "body": "Hi"},
        # checkout (issue 13)
        "create_event": event_body(),
        "update_event": {"venue": "Elsewhere"},
        "expand_inventory": {"tier": "GA", "additional_spots": 5, "reason": "Bigger room"},
        "correct_inventory": {
            "tier": "GA",
            "counts": {"actual_limit": 5, "held": 0, "sold": 0},
            "reason": "Audit",
        },
        # webhooks (issue 11)
        "create_webhook_endpoint": {"url": "https://93.184.215.14/in", "event_types": ["user.*"]},
        "update_webhook_endpoint": {"description": "mine now"},
        "rotate_webhook_secret": {},
        "test_webhook_endpoint": {},
        "retry_failed_webhook_deliveries": {"since": "2020-01-01T00:00:00Z", "until": "2020-01-20T00:00:00Z"},
        # flags
        "create_flag": {"key": "mine", "name": "Mine", "category": "ui"},
        "update_flag": {"name": "Mine"},
        "archive_flag": {"note": "mine"},
        "toggle_flag": {"on": True, "note": "mine now"},
        "update_flag_targeting": {"targeting": {"rules": [{"tenants": [v.other.tenant_id]}]}},
        "preview_flag_targeting": {"targeting": {"rules": []}},
        "schedule_flag_change": {
            "run_at": "2030-01-01T00:00:00Z",
            "action": "toggle",
            "on": True,
            "note": "mine",
        },
        "ofrep_evaluate_flag": {"context": {"targetingKey": v.ph.user_id}},
        # payments (issue 12)
        "refund_payment": {"amount": 1},
        "mark_invoice_paid": {"reason": "paid by transfer"},
        "change_subscription_plan": {"plan_id": "starter"},
        "cancel_subscription": {"at_period_end": False},
        "create_plan": {
            "plan_id": "mine",
            "name": "Mine",
            "price": 1,
            "currency": "USD",
            "limits": {"max_users": 5},
        },
        "update_plan": {"price": 1},
    }


NOTIFY_BODIES: dict[str, Any] = {
    "update_channel": {"channel": "email", "enabled": False},
    "test_channel": {"channel": "email", "to": "t@other.example.com"},
    "create_template": {"name": "hi", "channel": "in_app", "body": "Hi"},
    "update_template": {"body": "Mine now"},
    "create_notification_rule": {
        "name": "Mine",
        "trigger": "user.created",
        "channels": ["in_app"],
        "template": "hello",
    },
    "update_notification_rule": {"active": False},
    "test_notification_rule": {"data": {"user_id": "usr_x", "role": "cashier"}},
    "send_bulk_notification": {"audience": {"kind": "all"}, "channels": ["in_app"], "body": "Mine"},
}


# Bodies that name A's ids: the call is a cross-tenant attempt even without `tenant_id`.
BODY_IDS = {
    "force_password_reset",
    "start_impersonation",
    "terminate_sessions",
    "bulk_change_roles",
    # notifications (issue 10)
    "preview_template",
    "send_notification",
}


Call = tuple[str, str, str, Any, dict[str, str] | None]  # label, method, path, body, query


def _variants(v: World, op: dict[str, Any], path: str, body: Any) -> list[Call]:
    name, method, query = op["operationId"], op["method"], _params(op, "query")
    a = {"tenant_id": v.boss.tenant_id}
    out: list[Call] = []
    if _params(op, "path"):  # A's bare ids, as if they were the caller's
        out.append((f"{name} (ids)", method, path, body, None))
    if "tenant_id" in query:  # naming tenant A outright
        out.append((f"{name} ?tenant_id", method, path, body, a))
        if "user_id" in query:
            out.append((f"{name} ?tenant_id&user_id", method, path, body, {**a, "user_id": v.ph.user_id}))
    elif "user_id" in query:
        out.append((f"{name} ?user_id", method, path, body, {"user_id": v.ph.user_id}))
    if name in BODY_IDS:
        out.append((f"{name} (body ids)", method, path, body, None))
    if name in PLATFORM and not out:
        out.append((f"{name} (platform)", method, path, body, None))
    return out


def _calls(v: World) -> tuple[list[Call], list[str]]:
    """Every cross-tenant call of every non-public operation, and the operations left without one."""
    fillers, bodies = _fillers(v), _bodies(v)
    calls: list[Call] = []
    missing: list[str] = []
    for op in operations():
        name = op["operationId"]
        if op["public"]:
            continue
        path_params, query = _params(op, "path"), _params(op, "query")
        if name in SELF:
            if path_params or "tenant_id" in query or "user_id" in query:
                missing.append(f"{name}: listed as self-only but takes an id")
            continue
        unknown = path_params - set(fillers)
        if unknown:
            missing.append(f"{name}: no id of tenant A for path parameter(s) {sorted(unknown)}")
            continue
        if "requestBody" in op and name not in bodies:
            missing.append(f"{name}: no body")
            continue
        path = op["path"].format(**{p: fillers[p] for p in path_params})
        before = len(calls)
        calls += _variants(v, op, path, bodies.get(name))
        if len(calls) == before:
            missing.append(f"{name}: names nothing of another tenant; add a case (or list it in SELF)")
    return calls, missing


def _refused(reply: Reply, label: str) -> bool:
    if reply.status == 403:
        return reply.code in {"SAAS_001", "SAAS_005"}
    if reply.status == 404:
        return reply.code in NOT_FOUND_CODES
    if label.startswith("bulk_change_roles") and reply.status == 200:  # per-user results
        return all(r["code"] in NOT_FOUND_CODES for r in reply.json["results"])
    return False


def test_every_non_public_operation_has_a_cross_tenant_case() -> None:
    a = Actor("tok", "usr_a", "ten_a", "a@a.example.com")
    calls, missing = _calls(World(a, a, a, a, a, "inv_a", "ses_a", "imp_a"))
    assert not missing, "\n".join(missing)
    covered = {label.split(" ")[0] for label, *_ in calls} | SELF
    secured = {op["operationId"] for op in operations() if not op["public"]}
    assert covered == secured
    assert len(secured) > 50


def test_another_tenants_ids_are_refused_on_every_operation_leak_nothing_and_write_nothing(api: Api) -> None:
    victim = two_tenants(api)
    attacker = victim.other
    calls, missing = _calls(victim)
    assert not missing, "\n".join(missing)
    assert len(calls) > 60
    secrets = [victim.boss.tenant_id, victim.boss.email, victim.ph.email, "Acme", "night_shift"]
    before = api.stack.scan()
    wrong = []
    for label, method, path, body, query in calls:
        reply = api.call(method, path, json_body=body, token=attacker.token, query=query)
        if not _refused(reply, label):
            wrong.append(f"{label}: {reply.status} {reply.text[:160]}")
        elif reply.status != 200 and any(s in reply.text for s in secrets):
            wrong.append(f"{label}: leaks {reply.text[:160]}")
    assert not wrong, "\n".join(wrong)
    assert api.stack.scan() == before
