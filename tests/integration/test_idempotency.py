"""POST with Idempotency-Key: replays answer the first response and write nothing more."""

from __future__ import annotations

from tests.support.actors import super_admin
from tests.support.http import Api

BODY = {"name": "Once Only", "admin": {"email": "once@only.example.com", "name": "O"}}


def test_retry_with_the_same_key_replays_the_first_answer(api: Api) -> None:
    root = super_admin(api)
    first = api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-1"})
    assert first.status == 201
    tenants_before = len(api.stack.entities("tenant"))
    again = api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-1"})
    assert again.status == 201
    assert again.json == first.json
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.stack.entities("tenant")) == tenants_before
    assert len(api.stack.entities("outbox")) == 1


def test_same_key_with_another_body_is_409(api: Api) -> None:
    root = super_admin(api)
    api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-2"})
    other = api.post(
        "/tenants", {**BODY, "name": "Other"}, token=root.token, headers={"Idempotency-Key": "k-2"}
    )
    assert (other.status, other.code) == (409, "API_011")


def test_a_failed_request_can_be_retried_with_its_key(api: Api) -> None:
    root = super_admin(api)
    bad = api.post("/tenants", {**BODY, "name": "x"}, token=root.token, headers={"Idempotency-Key": "k-3"})
    assert bad.status == 422
    fixed = api.post("/tenants", {**BODY, "name": "x"}, token=root.token, headers={"Idempotency-Key": "k-3"})
    assert fixed.status == 422  # not a replay of a stored answer: it ran again
    assert "idempotent-replayed" not in fixed.headers


def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    root = super_admin(api)
    api.post("/tenants", BODY, token=root.token, headers={"Idempotency-Key": "k-4"})
    stranger = api.post("/tenants", BODY, headers={"Idempotency-Key": "k-4"})
    assert (stranger.status, stranger.code) == (401, "AUTH_001")


def test_without_a_key_each_post_acts(api: Api) -> None:
    root = super_admin(api)
    assert api.post("/tenants", BODY, token=root.token).status == 201
    assert api.post("/tenants", BODY, token=root.token).status == 409  # e-mail taken: it really ran
