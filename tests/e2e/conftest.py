"""The local stack (`python -m infra.local`) as a subprocess, once per test session (per xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.process import LocalStackProcess, StackError
from tests.e2e.client import Api, Mailbox

START_TIMEOUT = 90.0


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Starts the stack on a free port, yields its state file (api_url, moto_url, admin_*), stops it."""
    stack = LocalStackProcess(tmp_path_factory.mktemp("local-stack"))
    try:
        yield stack.start(START_TIMEOUT)
    except StackError as exc:
        pytest.fail(str(exc))
    finally:
        try:
            stack.stop()
        except StackError as exc:
            pytest.fail(str(exc))


@pytest.fixture
def http_api(local_stack: dict[str, Any]) -> Api:
    """The running stack's HTTP API (tests/e2e/client.py)."""
    return Api(local_stack["api_url"])


@pytest.fixture
def mailbox(local_stack: dict[str, Any]) -> Mailbox:
    """The e-mail the running stack sent, read from moto over HTTP."""
    return Mailbox(local_stack["api_url"])
