"""The local stack as a child process: started on a free port, ready when it says so, stopped with
SIGINT as Ctrl-C would. Used by the e2e tests and `make fuzz`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
READY = "Keel local stack ready on "


class StackError(RuntimeError):
    """The stack did not start, or did not stop cleanly; the message ends with its last output."""


class LocalStackProcess:
    def __init__(self, workdir: Path) -> None:
        self.state_file = workdir / "dev.json"
        self.log = workdir / "stack.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no output)"

    def start(self, timeout: float = 120.0) -> dict[str, Any]:
        """Boots `python -m infra.local --port 0` and returns its state (api_url, moto_url, admin_*)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("AWS_ENDPOINT_URL", None)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "infra.local", "--port", "0", "--state-file", str(self.state_file)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not (self.state_file.exists() and READY in self.log.read_text(errors="replace")):
            if self.proc.poll() is not None:
                raise StackError(f"the local stack exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(f"the local stack was not ready after {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)
        state: dict[str, Any] = json.loads(self.state_file.read_text())
        state["log_file"] = str(self.log)
        return state

    def stop(self, timeout: float = 30.0) -> None:
        """SIGINT, then a kill if it does not stop in time (a StackError: it should have)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise StackError(f"the local stack did not stop on SIGINT:\n{self.tail()}") from None
        if proc.returncode != 0:
            raise StackError(f"the local stack exited with {proc.returncode} on SIGINT:\n{self.tail()}")
