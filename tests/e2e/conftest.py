"""The local stack (`python -m infra.local`) as a subprocess, once per test session (per xdist worker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import Api, Mailbox

ROOT = Path(__file__).resolve().parents[2]
READY = "Keel local stack ready on "
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Starts the stack on a free port, yields its state file (api_url, moto_url, admin_*), stops it."""
    workdir = tmp_path_factory.mktemp("local-stack")
    state_file = workdir / "dev.json"
    log = workdir / "stack.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--port", "0", "--state-file", str(state_file)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the local stack exited with {proc.returncode}:\n{_tail(log)}")
            if state_file.exists() and READY in log.read_text(errors="replace"):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the local stack was not ready after {START_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        state["log_file"] = str(log)
        yield state
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"the local stack did not stop on SIGINT:\n{_tail(log)}")
    if proc.returncode != 0:
        pytest.fail(f"the local stack exited with {proc.returncode} on SIGINT:\n{_tail(log)}")


@pytest.fixture
def http_api(local_stack: dict[str, Any]) -> Api:
    """The running stack's HTTP API (tests/e2e/client.py)."""
    return Api(local_stack["api_url"])


@pytest.fixture
def mailbox(local_stack: dict[str, Any]) -> Mailbox:
    """The e-mail the running stack sent, read from moto over HTTP."""
    return Mailbox(local_stack["moto_url"])
