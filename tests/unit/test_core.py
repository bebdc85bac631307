"""ids, clock, pagination, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.pagination import decode_cursor, encode_cursor
from keel.core.permissions import Permission
from keel.core.principal import Principal


def test_ids_sort_by_time() -> None:
    clock.freeze(datetime(2026, 1, 1, tzinfo=UTC))
    try:
        first = ids.ulid()
        clock.advance(milliseconds=1)
        second = ids.ulid()
    finally:
        clock.unfreeze()
    assert len(first) == 26
    assert first < second


def test_ulid_bounds_enclose_ids_of_their_millisecond() -> None:
    moment = datetime(2026, 5, 5, tzinfo=UTC)
    clock.freeze(moment)
    try:
        value = ids.ulid()
    finally:
        clock.unfreeze()
    ms = int(moment.timestamp() * 1000)
    assert ids.ulid_bound(ms, upper=False) <= value <= ids.ulid_bound(ms, upper=True)
    assert ids.ulid_bound(ms + 1, upper=False) > value


def test_tokens_are_at_least_128_bits() -> None:
    assert len(ids.token()) >= 43  # 32 bytes, base64url


def test_cursor_round_trip_and_partition_binding() -> None:
    key = {"PK": "T#a", "SK": "USER#1"}
    cursor = encode_cursor(key, "table:T#a")
    assert decode_cursor(cursor, "table:T#a") == key
    with pytest.raises(KeelError) as err:
        decode_cursor(cursor, "table:T#b")
    assert err.value.code is ErrorCode.API_005
    with pytest.raises(KeelError):
        decode_cursor("!!!", "table:T#a")


def test_every_code_has_a_status() -> None:
    assert all(400 <= c.status < 600 for c in ErrorCode)
    assert ErrorCode.AUTH_001.status == 401


def test_tenant_scope_hides_other_tenants() -> None:
    p = Principal(tenant_id="t1", user_id="u", role="manager", permissions=frozenset())
    assert p.tenant_scope(None) == "t1"
    with pytest.raises(KeelError) as err:
        p.tenant_scope("t2")
    assert err.value.status == 404
    root = Principal(tenant_id="platform", user_id="r", role="super_admin", permissions=frozenset(Permission))
    assert root.tenant_scope("t2") == "t2"


def test_settings_read_the_environment_by_name_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from keel.core.config import Settings

    monkeypatch.setenv("TABLE_NAME", "t1")
    monkeypatch.delenv("ARGON2_TIME_COST", raising=False)
    monkeypatch.setenv("argon2_time_cost", "3")
    monkeypatch.setenv("MAX_BODY_BYTES", " 1024 ")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    got = Settings.from_env()
    assert (got.table_name, got.argon2_time_cost, got.max_body_bytes) == ("t1", 3, 1024)
    assert got.public_base_url == "http://127.0.0.1:3000"
    monkeypatch.setenv("SESSION_IDLE_SECONDS", "soon")
    with pytest.raises(ValueError, match="SESSION_IDLE_SECONDS"):
        Settings.from_env()


def test_each_kind_has_its_own_not_found_code_and_api_006_means_no_route() -> None:
    import re
    from pathlib import Path

    from keel.core.errors import NOT_FOUND, ErrorCode, Kind, not_found

    assert set(NOT_FOUND) == set(Kind)
    assert len(set(NOT_FOUND.values())) == len(Kind), "two kinds share a not-found code"
    for kind in Kind:
        error = not_found(kind)
        assert (error.status, error.code) == (404, NOT_FOUND[kind])
    assert ErrorCode.API_006 not in NOT_FOUND.values()
    root = Path(__file__).resolve().parents[2]
    users = [
        str(p.relative_to(root))
        for p in (root / "layers/keel/keel").rglob("*.py")
        if re.search(r"ErrorCode\.(API_006|SAAS_002|SAAS_013|SAAS_01[4-7])\b", p.read_text())
        and p.name != "errors.py"
    ]
    assert users == ["layers/keel/keel/http/app.py"], "not-found errors come from errors.not_found(kind)"


@pytest.mark.parametrize(("in_lambda", "validated"), [(True, False), (False, True)])
def test_clients_validate_parameters_outside_lambda_only(
    monkeypatch: pytest.MonkeyPatch, in_lambda: bool, validated: bool
) -> None:
    """In Lambda the services validate requests (botocore's check is ~15 % of a call's CPU); the
    suite and the local stack keep botocore's check, so a malformed request still fails a test.
    The request never leaves: a `before-send` hook answers it."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ParamValidationError

    from keel.core import aws

    class Raw:
        def stream(self, **_: object) -> object:
            yield b"{}"

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if in_lambda:
        monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    else:
        monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    aws.reset()
    try:
        client = aws.client("dynamodb")
        client.meta.events.register(
            "before-send", lambda request, **_: AWSResponse(request.url, 200, {}, Raw())
        )
        try:
            client.get_item(TableName="t", Key={"PK": {"S": 5}})  # a number where a string belongs
            refused = False
        except ParamValidationError:
            refused = True
        assert refused is validated
    finally:
        monkeypatch.undo()
        aws.reset()
