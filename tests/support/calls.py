"""The DynamoDB operations a block of test code makes, in order (through the shared client)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    from keel.core import aws

    calls: list[str] = []

    def count(model: object, **_: object) -> None:
        calls.append(model.name)  # type: ignore[attr-defined]

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", count)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
