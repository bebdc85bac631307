"""What the fuzzer found in the notifications area: answers must match the spec exactly."""

from __future__ import annotations

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api


def test_a_null_in_a_channel_update_leaves_the_setting_as_it_was(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    first = api.call(
        "PUT",
        "/notifications/channels",
        json_body={"channel": "in_app", "enabled": True, "cost_per_message": 0.01, "daily_limit": 100},
        token=boss.token,
    )
    assert first.status == 200, first.text
    again = api.call(
        "PUT",
        "/notifications/channels",
        json_body={
            "channel": "in_app",
            "enabled": None,
            "settings": None,
            "cost_per_message": None,
            "daily_limit": None,
        },
        token=boss.token,
    )
    assert again.status == 200, again.text
    out = again.json
    assert (out["enabled"], out["settings"], out["cost_per_message"]) == (True, {}, 0.01)
    assert out["daily_limit"] is None  # a limit is lifted with null


def test_created_templates_answer_201_and_deleted_ones_204_without_a_body(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    created = api.post(
        "/notifications/templates",
        {"name": "hello", "channel": "sms", "body": "Hi {{ user.firstName }}"},
        token=boss.token,
    )
    assert created.status == 201, created.text
    gone = api.delete(f"/notifications/templates/{created.json['template_id']}", token=boss.token)
    assert (gone.status, gone.text or "") == (204, "")
    assert "content-type" not in gone.headers
