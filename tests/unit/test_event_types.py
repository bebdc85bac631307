"""The event registry (keel.store.event_types) agrees with every emit, worker and filter policy."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from keel.core.principal import Principal
from keel.store import event_types
from keel.store.change import Change
from tests.support.stack import template

ROOT = Path(__file__).resolve().parents[2]


def _ref(value: Any) -> str:
    """`!GetAtt X.Arn` / `!Ref X` as loaded -> X."""
    if isinstance(value, dict):
        inner = value.get("Fn::GetAtt") or value.get("Ref")
        return str(inner[0] if isinstance(inner, list) else inner).split(".")[0]
    return str(value)


def _subscriptions() -> dict[str, set[str]]:
    """Queue logical id -> the event types its subscription to the domain-event topic lets through
    (other topics, such as SES feedback, carry no domain events and have no event_type filter)."""
    out: dict[str, set[str]] = {}
    for res in template()["Resources"].values():
        if res["Type"] == "AWS::SNS::Subscription" and _ref(res["Properties"]["TopicArn"]) == "EventTopic":
            props = res["Properties"]
            out[_ref(props["Endpoint"])] = set(props["FilterPolicy"]["event_type"])
    return out


def _workers() -> dict[str, str]:
    """Queue logical id -> CodeUri of the function its SQS event source feeds."""
    out: dict[str, str] = {}
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for source in res["Properties"].get("Events", {}).values():
            if source["Type"] == "SQS":
                out[_ref(source["Properties"]["Queue"])] = res["Properties"]["CodeUri"]
    return out


def test_every_filter_policy_names_declared_types_and_its_worker_handles_exactly_those() -> None:
    from infra.apps import function_module

    subscriptions, workers = _subscriptions(), _workers()
    assert subscriptions, "the template subscribes queues to the topic"
    for queue, types in subscriptions.items():
        assert types <= set(event_types.REGISTRY), f"{queue}: undeclared {types - set(event_types.REGISTRY)}"
        module = function_module(workers[queue])
        assert set(module.EVENT_TYPES) == types, f"{queue}: worker and filter policy disagree"


def _literal_emits() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "layers/keel/keel").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "emit"
                and node.args
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path}:{node.lineno}: emit a literal type"
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", str(first.value)))
    return found


def test_every_emit_names_a_declared_type_and_every_declared_type_is_emitted() -> None:
    emits = _literal_emits()
    assert len(emits) > 20
    undeclared = [f"{where} {name}" for where, name in emits if name not in event_types.REGISTRY]
    assert not undeclared
    assert set(event_types.REGISTRY) == {name for _, name in emits}, "declared but never emitted"


def test_emit_refuses_an_undeclared_type_and_a_payload_that_does_not_validate() -> None:
    change = Change(Principal.system("ten_a", "test"))
    with pytest.raises(ValueError, match="undeclared event type"):
        change.emit("tenant.exploded", {"tenant_id": "ten_a"})
    with pytest.raises(ValidationError):
        change.emit("user.created", {"tenant_id": "ten_a", "user_id": "usr_a"})  # role missing
    with pytest.raises(ValidationError):
        change.emit("tenant.updated", {"tenant_id": "ten_a", "name": "leaks into consumers"})
    event = change.emit(
        "user.role_changed",
        event_types.UserRoleChanged(
            tenant_id="ten_a", user_id="usr_a", from_role="cashier", to_role="pharmacist"
        ),
    )
    assert event.data == {
        "tenant_id": "ten_a",
        "user_id": "usr_a",
        "from_role": "cashier",
        "to_role": "pharmacist",
    }
    assert [e.type for e in change.events] == ["user.role_changed"]


def test_the_catalogue_lists_each_type_with_its_description_and_json_schema() -> None:
    catalogue = event_types.catalogue()
    assert [e["name"] for e in catalogue] == sorted(event_types.REGISTRY)
    created = next(e for e in catalogue if e["name"] == "user.created")
    assert created["description"]
    assert created["schema"]["required"] == ["tenant_id", "user_id", "role"]
    assert created["schema"]["additionalProperties"] is False
