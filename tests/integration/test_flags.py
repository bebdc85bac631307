"""Feature flags: management by platform staff, targeting, sticky rollouts, evaluation, OFREP,
history, metrics, previews, scheduled changes; refusals write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from keel.core import clock
from keel.flags import cache, counters, engine
from tests.support.actors import Actor, super_admin, tenant_admin
from tests.support.calls import dynamodb_calls
from tests.support.http import Api
from tests.support.people import member

FLAG = {"key": "new-checkout", "name": "New checkout", "category": "ui", "on": True}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.forget()
    counters._pending.clear()
    yield
    cache.forget()


def _set_plan(api: Api, root: Actor, tenant: Actor, plan: str, region: str | None = None) -> None:
    body: dict[str, Any] = {"plan": plan}
    if region:
        body["region"] = region
    reply = api.patch(f"/tenants/{tenant.tenant_id}", body, token=root.token)
    assert reply.status == 200, reply.text


def _evaluations(api: Api, actor: Actor) -> dict[str, dict[str, Any]]:
    reply = api.get("/flag-evaluations", token=actor.token)
    assert reply.status == 200, reply.text
    return {f["key"]: f for f in reply.json["flags"]}


def test_create_get_list_and_evaluate_a_boolean_flag(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    created = api.post("/flags", FLAG, token=root.token)
    assert created.status == 201, created.text
    flag = created.json
    assert (flag["variations"], flag["off_variation"], flag["version"]) == (
        {"on": True, "off": False},
        "off",
        1,
    )
    assert flag["updated_by"] == root.user_id
    assert api.get("/flags/new-checkout", token=root.token).json["name"] == "New checkout"
    assert [f["key"] for f in api.get("/flags", token=root.token).json["items"]] == ["new-checkout"]
    assert api.get("/flags", token=root.token, query={"category": "billing"}).json["items"] == []
    # no targeting: the default variation, STATIC
    mine = _evaluations(api, boss)["new-checkout"]
    assert (mine["value"], mine["variant"], mine["reason"]) == (False, "off", "STATIC")
    assert api.post("/flags", FLAG, token=root.token).code == "SAAS_011"


def _bucket(key: str, salt: str, subject: str) -> float:
    return engine.bucket(key, salt, subject)


def test_done_when_plan_rollout_sticky_preview_history_metrics_and_ofrep(api: Api, monkeypatch: Any) -> None:
    root = super_admin(api)
    pro = tenant_admin(api, root)
    starter = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    _set_plan(api, root, pro, "professional")
    staff = [pro] + [member(api, pro, f"ph{i}@acme.example.com") for i in range(4)]
    salt = api.post("/flags", FLAG, token=root.token).json["salt"]

    rule = {"plans": ["professional"], "percentage": 30, "variation": "on"}
    reply = api.call(
        "PUT",
        "/flags/new-checkout/targeting",
        json_body={"targeting": {"rules": [rule]}, "note": "30 % of pro"},
        token=root.token,
    )
    assert reply.status == 200, reply.text
    assert reply.json["version"] == 2

    def expected(actor: Actor, pct: float) -> tuple[bool, str]:
        inside = _bucket("new-checkout", salt, actor.user_id) < pct
        return (True, "SPLIT") if inside else (False, "DEFAULT")

    at_30 = {}
    for actor in staff:
        got = _evaluations(api, actor)["new-checkout"]
        assert (got["value"], got["reason"]) == expected(actor, 30)
        at_30[actor.user_id] = got["value"]
    other = _evaluations(api, starter)["new-checkout"]
    assert (other["value"], other["reason"]) == (False, "DEFAULT")  # starter plan: no rule matches

    # preview 60 %: exactly the users whose bucket is in [30, 60) flip, nobody else
    proposal = {"targeting": {"rules": [{**rule, "percentage": 60}]}}
    preview = api.post("/flags/new-checkout/targeting/preview", proposal, token=root.token)
    assert preview.status == 200, preview.text
    flips = {f["user_id"] for f in preview.json["flips"]}
    assert all(f["before"] == "off" and f["after"] == "on" for f in preview.json["flips"])
    everyone = [a.user_id for a in staff] + [starter.user_id, root.user_id]
    assert flips == {u for u in everyone if 30 <= _bucket("new-checkout", salt, u) < 60 and u in at_30}
    assert preview.json["reached_after"]["users"] == sum(
        1 for u in at_30 if _bucket("new-checkout", salt, u) < 60
    )
    assert api.get("/flags/new-checkout", token=root.token).json["version"] == 2  # preview writes nothing

    reply = api.call(
        "PUT",
        "/flags/new-checkout/targeting",
        json_body={**proposal, "note": "60 %"},
        token=root.token,
    )
    assert reply.status == 200
    for actor in staff:  # every user who was in stays in; exactly the previewed ones join
        now = _evaluations(api, actor)["new-checkout"]["value"]
        assert now == (at_30[actor.user_id] or actor.user_id in flips)

    history = api.get("/flags/new-checkout/history", token=root.token).json["items"]
    assert [(h["action"], h["note"]) for h in history] == [
        ("targeting", "60 %"),
        ("targeting", "30 % of pro"),
        ("create", None),
    ]
    assert history[0]["diff"] == {"targeting.rules": {"from": [rule], "to": [{**rule, "percentage": 60}]}}

    counters.flush_if_due(force=True)
    metrics = api.get("/flags/new-checkout/metrics", token=root.token).json
    assert metrics["total"] == 2 * len(staff) + 1
    assert sum(metrics["variations"].values()) == metrics["total"]

    first = api.post("/ofrep/v1/evaluate/flags", {"context": {"targetingKey": pro.user_id}}, token=pro.token)
    assert first.status == 200, first.text
    ofrep = first.json["flags"][0]
    assert (ofrep["key"], ofrep["variant"]) == ("new-checkout", "on" if ofrep["value"] else "off")
    etag = first.headers["etag"]
    second = api.post(
        "/ofrep/v1/evaluate/flags",
        {"context": {"targetingKey": pro.user_id}},
        token=pro.token,
        headers={"if-none-match": etag},
    )
    assert (second.status, second.text) == (304, "")
    assert second.headers["etag"] == etag


def test_refusals_bad_input_and_tenant_admins_write_nothing(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    assert api.post("/flags", FLAG, token=root.token).status == 201
    before = api.stack.scan()
    toggle = {"on": False, "note": "kill switch"}
    for method, path, body in [
        ("POST", "/flags", {**FLAG, "key": "mine"}),
        ("POST", "/flags/new-checkout/toggle", toggle),
        ("PATCH", "/flags/new-checkout", {"name": "Mine"}),
        ("PUT", "/flags/new-checkout/targeting", {"targeting": {"rules": []}}),
        ("POST", "/flags/new-checkout/archive", {}),
        ("POST", "/flag-cache/refresh", None),
        ("GET", "/flags", None),
        ("GET", "/flags/new-checkout/history", None),
    ]:
        reply = api.call(method, path, json_body=body, token=boss.token)
        assert (reply.status, reply.code) == (403, "SAAS_001"), (path, reply.text)

    def targeting(rules: list[dict[str, Any]]) -> Any:
        return api.call(
            "PUT",
            "/flags/new-checkout/targeting",
            json_body={"targeting": {"rules": rules}},
            token=root.token,
        )

    for rules, field in [
        ([{"percentage": 150}], "targeting.rules.0.percentage"),
        ([{"plans": ["platinum"]}], "targeting.rules[0].plans"),
        ([{"roles": ["wizard"]}], "targeting.rules[0].roles"),
        ([{"variation": "maybe", "plans": ["starter"]}], "targeting.rules[0].variation"),
        (
            [{"plans": ["starter", "professional"]}, {"plans": ["starter"], "roles": ["cashier"]}],
            "targeting.rules[1]",
        ),
        ([{}, {"plans": ["starter"]}], "targeting.rules[1]"),
    ]:
        reply = targeting(rules)
        assert (reply.status, reply.code) == (422, "API_007"), reply.text
        assert reply.json["error"]["details"][0]["field"] == field, reply.text
    bad_key = api.post("/flags", {**FLAG, "key": "Bad Key"}, token=root.token)
    assert bad_key.status == 422
    assert bad_key.json["error"]["details"][0]["field"] == "key"
    mixed = api.post("/flags", {**FLAG, "key": "mixed", "variations": {"a": 1, "b": "x"}}, token=root.token)
    assert mixed.status == 422
    assert api.patch("/flags/new-checkout", {"key": "renamed"}, token=root.token).status == 422  # immutable
    no_note = api.post("/flags/new-checkout/toggle", {"on": False}, token=root.token)
    assert no_note.status == 422
    assert no_note.json["error"]["details"][0]["field"] == "note"
    missing = api.post("/flags/ghost/toggle", toggle, token=root.token)
    assert (missing.status, missing.code) == (404, "SAAS_004")
    assert api.get("/flags/ghost", token=root.token).code == "SAAS_004"
    assert api.stack.scan() == before


def test_archived_flags_serve_off_and_cannot_change(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/flags", {**FLAG, "targeting": {"default_variation": "on"}}, token=root.token)
    assert _evaluations(api, boss)["new-checkout"]["value"] is True
    assert api.post("/flags/new-checkout/archive", {"note": "shipped"}, token=root.token).status == 200
    got = _evaluations(api, boss)["new-checkout"]
    assert (got["value"], got["reason"]) == (False, "DISABLED")
    before = api.stack.scan()
    again = api.post("/flags/new-checkout/toggle", {"on": True, "note": "oops"}, token=root.token)
    assert (again.status, again.code) == (409, "SAAS_020")
    assert api.stack.scan() == before


def test_a_broken_flag_answers_its_off_value_with_error_and_the_others_still_evaluate(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/flags", {**FLAG, "key": "fine"}, token=root.token)
    api.post("/flags", FLAG, token=root.token)
    flag = api.stack.client("dynamodb")
    from keel.core.config import settings

    flag.update_item(
        TableName=settings().table_name,
        Key={"PK": {"S": "FLAGS"}, "SK": {"S": "FLAG#new-checkout"}},
        UpdateExpression="SET targeting = :t",
        ExpressionAttributeValues={":t": {"M": {"default_variation": {"S": "nowhere"}}}},
    )
    api.post("/flag-cache/refresh", token=root.token)
    got = _evaluations(api, boss)
    assert (got["new-checkout"]["value"], got["new-checkout"]["reason"]) == (False, "ERROR")
    assert got["fine"]["reason"] == "STATIC"


def test_warm_evaluation_is_the_auth_read_plus_one_batch_get_and_changes_reach_the_next_request(
    api: Api,
) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    for i in range(5):
        api.post(
            "/flags",
            {**FLAG, "key": f"f{i}", "targeting": {"rules": [{"plans": ["starter"]}]}},
            token=root.token,
        )
    _evaluations(api, boss)  # cold: loads the flag set
    with dynamodb_calls() as calls:
        assert _evaluations(api, boss)["f0"]["value"] is True
    assert calls == ["GetItem", "BatchGetItem"]
    reloads = cache.reloads["count"]
    api.post("/flags/f0/toggle", {"on": False, "note": "incident 12"}, token=root.token)
    with dynamodb_calls() as calls:
        assert _evaluations(api, boss)["f0"]["reason"] == "DISABLED"  # its very next request
    assert calls == ["GetItem", "BatchGetItem", "Query"]
    assert cache.reloads["count"] == reloads + 1
    assert api.post("/flag-cache/refresh", token=root.token).status == 200
    with dynamodb_calls() as calls:
        _evaluations(api, boss)
    assert calls == ["GetItem", "BatchGetItem", "Query"]


def test_ofrep_single_flag_and_not_found(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/flags", FLAG, token=root.token)
    one = api.post(
        "/ofrep/v1/evaluate/flags/new-checkout", {"context": {"targetingKey": "x"}}, token=boss.token
    )
    assert one.status == 200, one.text
    assert {k: one.json[k] for k in ("key", "value", "reason", "variant")} == {
        "key": "new-checkout",
        "value": False,
        "reason": "STATIC",
        "variant": "off",
    }
    missing = api.post("/ofrep/v1/evaluate/flags/ghost", {}, token=boss.token)
    assert (missing.status, missing.json["errorCode"], missing.code) == (404, "FLAG_NOT_FOUND", "SAAS_004")
    assert api.post("/ofrep/v1/evaluate/flags", {}).status == 401


def test_scheduled_toggle_applies_once_even_when_the_scheduler_runs_twice(api: Api) -> None:
    from datetime import timedelta

    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, scheduled_event
    from keel.flags import repo as flag_repo
    from keel.flags import service
    from tests.support.http import handler_of

    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/flags", {**FLAG, "on": False, "targeting": {"default_variation": "on"}}, token=root.token)
    assert _evaluations(api, boss)["new-checkout"]["reason"] == "DISABLED"
    run_at = clock.iso(clock.now() + timedelta(minutes=2))
    bad = api.post(
        "/flags/new-checkout/schedules",
        {"run_at": "2001-01-01T00:00:00Z", "action": "toggle", "on": True, "note": "late"},
        token=root.token,
    )
    assert bad.status == 422
    assert bad.json["error"]["details"][0]["field"] == "run_at"
    assert (
        api.post(
            "/flags/new-checkout/schedules",
            {"run_at": run_at, "action": "toggle", "on": True, "note": "launch"},
            token=boss.token,
        ).code
        == "SAAS_001"
    )
    made = api.post(
        "/flags/new-checkout/schedules",
        {"run_at": run_at, "action": "toggle", "on": True, "note": "launch at noon"},
        token=root.token,
    )
    assert made.status == 201, made.text
    other = api.post(
        "/flags/new-checkout/schedules",
        {"run_at": run_at, "action": "rollout", "percentage": 20, "note": "then 20 %"},
        token=root.token,
    ).json
    assert api.delete(f"/flags/new-checkout/schedules/{other['change_id']}", token=root.token).status == 200
    assert (
        api.delete(f"/flags/new-checkout/schedules/{other['change_id']}", token=root.token).code == "SAAS_022"
    )

    module = function_module(*handler_of("FlagChangesFunction"))

    def run() -> dict[str, int]:
        return module.lambda_handler(scheduled_event("arn:rule"), LambdaContext("flag-changes"))

    assert run() == {"applied": 0, "failed": 0, "skipped": 0}  # not yet
    clock.freeze(clock.now() + timedelta(minutes=2, seconds=1))
    try:
        # two runs at once: both read the change as pending, then each tries to apply it
        seen_by_second_run = flag_repo.due(clock.iso())
        assert [c.status for c in seen_by_second_run] == ["pending"]
        assert run() == {"applied": 1, "failed": 0, "skipped": 0}
        before = api.stack.scan()
        assert service.apply_change(seen_by_second_run[0]) == "skipped"
        assert api.stack.scan() == before  # nothing written by the loser
        assert run() == {"applied": 0, "failed": 0, "skipped": 0}  # and a later run finds nothing
    finally:
        clock.unfreeze()
    assert _evaluations(api, boss)["new-checkout"]["variant"] == "on"
    history = api.get("/flags/new-checkout/history", token=root.token).json["items"]
    assert [h["action"] for h in history] == ["toggle", "create"]
    assert history[0]["note"].endswith("launch at noon")
    assert history[0]["diff"] == {"on": {"from": False, "to": True}}
    listed = api.get("/flags/new-checkout/schedules", token=root.token).json["items"]
    assert sorted(c["status"] for c in listed) == ["applied", "cancelled"]
