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
    assert (flag["variations"], flag["off_variation"], flag["version"]) == ({"on": True, "off": False}, "off", 1)
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
        "PUT", "/flags/new-checkout/targeting", json_body={"targeting": {"rules": [rule]}, "note": "30 % of pro"},
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
        "PUT", "/flags/new-checkout/targeting",
        json_body={**proposal, "note": "60 %"}, token=root.token,
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
        "/ofrep/v1/evaluate/flags", {"context": {"targetingKey": pro.user_id}}, token=pro.token,
        headers={"if-none-match": etag},
    )
    assert (second.status, second.text) == (304, "")
    assert second.headers["etag"] == etag
