"""Impersonation settings: which roles may impersonate whom, for how long, and the switch."""

from __future__ import annotations

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import member

PATH = "/security/impersonation-settings"


def test_rules_max_minutes_and_the_switch_govern_start(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    peer = member(api, boss, "peer@acme.example.com", role="manager")
    got = api.get(PATH, token=boss.token)
    assert got.status == 200, got.text
    defaults = got.json
    assert defaults["enabled"] is True
    assert defaults["max_minutes"] == 240
    assert {"actor_role": "manager", "target_roles": ["pharmacist", "cashier", "technician"]} in defaults[
        "rules"
    ]
    body = {"user_id": peer.user_id, "reason": "ticket 5: reports", "duration_minutes": 60}
    assert api.post("/impersonations", body, token=boss.token).code == "SAAS_005"

    rules = [{"actor_role": "manager", "target_roles": ["cashier", "manager"]}]
    saved = api.call("PUT", PATH, json_body={"rules": rules, "max_minutes": 60}, token=boss.token)
    assert saved.status == 200, saved.text
    assert (saved.json["rules"], saved.json["max_minutes"], saved.json["enabled"]) == (rules, 60, True)
    assert api.get(PATH, token=boss.token).json == saved.json
    assert api.get("/security/password-policy", token=boss.token).json["min_length"] == 8  # untouched
    assert api.get(PATH, token=other.token).json == defaults  # another tenant's own settings
    assert api.get(PATH, token=root.token, query={"tenant_id": boss.tenant_id}).json == saved.json
    log = api.get("/audit-logs", token=boss.token, query={"event_type": "security_settings_changed"})
    assert log.json["items"][0]["details"] == {
        "section": "impersonation",
        "changed": ["max_minutes", "rules"],
    }

    before = api.stack.scan()
    too_long = api.post("/impersonations", {**body, "duration_minutes": 61}, token=boss.token)
    assert (too_long.status, too_long.json["error"]["details"][0]["field"]) == (422, "duration_minutes")
    assert api.stack.scan() == before
    started = api.post("/impersonations", body, token=boss.token)
    assert started.status == 201, started.text  # a manager may now act as a manager
    assert api.post(f"/impersonations/{started.json['impersonation_id']}/end", token=boss.token).status == 200

    off = api.call("PUT", PATH, json_body={**saved.json, "enabled": False}, token=boss.token)
    assert off.status == 200
    cash = {"user_id": cashier.user_id, "reason": "ticket 6: till", "duration_minutes": 30}
    refused = api.post("/impersonations", cash, token=boss.token)
    assert (refused.status, refused.code) == (403, "SAAS_005")
    by_root = api.call(
        "PUT",
        PATH,
        json_body={**defaults, "enabled": True},
        token=root.token,
        query={"tenant_id": boss.tenant_id},
    )
    assert by_root.status == 200
    assert api.post("/impersonations", cash, token=boss.token).status == 201


def test_impersonation_never_grants_permissions_the_actor_lacks(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    role = {
        "name": "support",
        "label": "Support desk",
        "permissions": ["users:impersonate", "profile:self"],
    }
    assert api.post("/roles", role, token=boss.token).status == 201
    desk = member(api, boss, "desk@acme.example.com", role="support")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    manager = member(api, boss, "peer@acme.example.com", role="manager")
    rules = [{"actor_role": "support", "target_roles": ["cashier", "manager"]}]
    assert api.call("PUT", PATH, json_body={"rules": rules}, token=boss.token).status == 200
    before = api.stack.scan()
    up = {"user_id": manager.user_id, "reason": "ticket 7: escalate", "duration_minutes": 30}
    refused = api.post("/impersonations", up, token=desk.token)
    assert (refused.status, refused.code) == (403, "SAAS_005")
    assert api.stack.scan() == before
    down = {"user_id": cashier.user_id, "reason": "ticket 8: till", "duration_minutes": 30}
    assert api.post("/impersonations", down, token=desk.token).status == 201
