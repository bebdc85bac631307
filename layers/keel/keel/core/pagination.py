"""The one pagination: opaque cursors bound to the partition they page through."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import Field

from keel.core.errors import ErrorCode, KeelError
from keel.core.model import Model

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


T = TypeVar("T")


class Page(Model, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")


def encode_cursor(last_key: dict[str, Any] | None, partition: str) -> str | None:
    if not last_key:
        return None
    raw = json.dumps({"p": partition, "k": last_key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, partition: str) -> dict[str, Any] | None:
    """A cursor made for another partition (another tenant, another filter) is refused."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["p"] != partition or not isinstance(data["k"], dict):
            raise ValueError("cursor partition")
        return dict(data["k"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KeelError(
            ErrorCode.API_005, "Invalid cursor", details=[{"field": "cursor", "message": "not a cursor"}]
        ) from exc
