"""boto3 clients, one per service per process (created on first use, so cold starts stay cheap).

`AWS_ENDPOINT_URL` points every client at the local emulation when set; tests call `reset()`
after starting a mock.

In Lambda (`LAMBDA_TASK_ROOT` set) botocore's client-side parameter validation is off: it walks
every request against the service model before sending, about 15 % of a call's CPU (the
notification worker's e-mails per CPU-second: 555 -> 645), and the services validate each request
themselves. Everywhere else (tests, the local stack, benches not playing Lambda) it stays on, so a
malformed request still fails the suite with botocore's message before it reaches moto.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_resets: list[Callable[[], None]] = []


@cache
def client(service: str) -> Any:
    config = Config(parameter_validation="LAMBDA_TASK_ROOT" not in os.environ)
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def on_reset(hook: Callable[[], None]) -> Callable[[], None]:
    _resets.append(hook)
    return hook


def reset() -> None:
    client.cache_clear()
    for hook in _resets:
        hook()
