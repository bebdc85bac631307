"""boto3 clients, one per service per process (created on first use, so cold starts stay cheap).

`AWS_ENDPOINT_URL` points every client at the local emulation when set; tests call `reset()`
after starting a mock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3

_resets: list[Callable[[], None]] = []


@cache
def client(service: str) -> Any:
    return boto3.client(service)  # type: ignore[call-overload]


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    _resets.append(hook)
    return hook


def reset() -> None:
    client.cache_clear()
    for hook in _resets:
        hook()
