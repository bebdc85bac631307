"""Running the functions of the stack the way Lambda does: many isolated instances, each with a
timeout.

Each function has a pool of instances (`infra/local/instance.py`): a process that imports the
handler once (a cold start) and then serves one invocation at a time (warm). An invocation takes
an idle instance or starts a new one, up to `KEEL_LOCAL_CONCURRENCY` per function, so requests to
one function or to several run at the same time, as in AWS. Processes rather than threads because
a handler's module state (the Powertools logger and resolver's current event, settings, boto3
clients) must not be shared between concurrent invocations, and because only a process can be
stopped: an invocation that runs past the function's `Timeout` is cut off, its instance killed and
discarded, and the caller gets `InvocationTimeout` (the gateway answers 503, pollers retry).
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import IO, Any

from infra.apps import ROOT, ensure_paths
from infra.lambda_events import LambdaContext
from infra.local import console
from infra.local.instance import read_frame, write_frame
from infra.local.template import ACCOUNT_ID, REGION, FunctionSpec

__all__ = ["ROOT", "InvocationError", "InvocationTimeout", "LambdaContext", "Runtime", "ensure_paths"]

DEFAULT_CONCURRENCY = int(os.environ.get("KEEL_LOCAL_CONCURRENCY", "8"))
INIT_TIMEOUT_SECONDS = 60.0  # Lambda allows 10 s; a busy laptop importing many at once needs more


class InvocationError(Exception):
    """The handler raised (or could not be imported): Lambda's errorType and errorMessage."""

    def __init__(self, error: Mapping[str, str]) -> None:
        super().__init__(f"{error.get('type', 'Error')}: {error.get('message', '')}")
        self.remote_traceback = error.get("traceback", "")


class InvocationTimeout(Exception):
    """The invocation ran past the function's Timeout; its instance was stopped."""


class InstanceDied(Exception):
    """The instance's process ended in the middle of an invocation."""


class Instance:
    """One execution environment: a process with the handler imported."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str]) -> None:
        self.spec = spec
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "infra.local.instance",
                    spec.module,
                    spec.attribute,
                    str(request_read),
                    str(response_write),
                ],
                cwd=ROOT,
                env=dict(environment),
                pass_fds=(request_read, response_write),
                start_new_session=True,  # Ctrl-C in the terminal stops the stack, which stops these
            )
        finally:
            os.close(request_read)
            os.close(response_write)
        self._requests: IO[bytes] = os.fdopen(request_write, "wb")
        self._responses: IO[bytes] = os.fdopen(response_read, "rb")

    def wait_ready(self, timeout: float = INIT_TIMEOUT_SECONDS) -> None:
        message = self._receive(timeout)
        if message is None:
            self.stop()
            raise InvocationTimeout(f"{self.spec.logical_id} did not start within {timeout:.0f} s")
        if "error" in message:
            self.stop()
            raise InvocationError(message["error"])

    def invoke(self, event: dict[str, Any], context: LambdaContext, timeout: float) -> Any:
        fields = {k: v for k, v in asdict(context).items() if not k.startswith("_")}
        try:
            write_frame(self._requests, {"event": event, "context": fields})
        except (BrokenPipeError, OSError) as exc:
            self.stop()
            raise InstanceDied(f"{self.spec.logical_id}'s instance has stopped") from exc
        message = self._receive(timeout)
        if message is None:
            self.stop()
            raise InvocationTimeout(f"{self.spec.logical_id}: task timed out after {timeout:g} seconds")
        if "error" in message:
            raise InvocationError(message["error"])
        return message["result"]

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message; None on timeout. A process that ended raises InstanceDied."""
        ready, _, _ = select.select([self._responses], [], [], timeout)
        if not ready:
            return None
        message = read_frame(self._responses)
        if message is None:
            self.stop()
            code = self.process.poll()
            raise InstanceDied(f"{self.spec.logical_id}'s instance exited ({code})")
        return dict(message)

    def stop(self) -> None:
        for stream in (self._requests, self._responses):
            with contextlib.suppress(OSError):
                stream.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Pool:
    """The instances of one function: idle ones are reused, new ones start up to `limit`."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], limit: int) -> None:
        self.spec = spec
        self.environment = environment
        self.limit = max(1, limit)
        self.idle: list[Instance] = []
        self.count = 0
        self.closed = False
        self._cond = threading.Condition()

    def acquire(self) -> Instance:
        with self._cond:
            while not self.idle and self.count >= self.limit:
                self._cond.wait()
            if self.closed:
                raise InstanceDied("the local stack is stopping")
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            instance = Instance(self.spec, self.environment)
            instance.wait_ready()
        except BaseException:
            self.discard()
            raise
        return instance

    def release(self, instance: Instance) -> None:
        with self._cond:
            if self.closed:
                instance.stop()
                return
            self.idle.append(instance)
            self._cond.notify()

    def discard(self) -> None:
        with self._cond:
            self.count -= 1
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            idle, self.idle = self.idle, []
            self._cond.notify_all()
        for instance in idle:
            instance.stop()


class Runtime:
    """The functions of the stack, by logical id, each with its pool of instances."""

    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        stack_name: str,
        environments: Mapping[str, Mapping[str, str]] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.specs = specs
        self.stack_name = stack_name
        self.pools = {
            logical_id: Pool(
                spec, self._environment(spec, (environments or {}).get(logical_id, {})), concurrency
            )
            for logical_id, spec in specs.items()
        }

    def function_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def _environment(self, spec: FunctionSpec, variables: Mapping[str, str]) -> dict[str, str]:
        """This process's environment, the function's variables, and those Lambda sets itself."""
        return {
            **os.environ,
            **variables,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name(spec.logical_id),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "PYTHONUNBUFFERED": "1",
        }

    def warm(self) -> dict[str, BaseException]:
        """Starts one instance of every function now, in parallel; returns those that failed."""
        failed: dict[str, BaseException] = {}

        def start(logical_id: str) -> None:
            pool = self.pools[logical_id]
            try:
                pool.release(pool.acquire())
            except Exception as exc:
                failed[logical_id] = exc

        threads = [threading.Thread(target=start, args=(name,), daemon=True) for name in self.pools]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return failed

    def context(self, logical_id: str, request_id: str | None = None) -> LambdaContext:
        spec = self.specs[logical_id]
        name = self.function_name(logical_id)
        return LambdaContext(
            function_name=name,
            memory_limit_in_mb=spec.memory,
            invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
            aws_request_id=request_id or str(uuid.uuid4()),
            timeout_seconds=spec.timeout,
        )

    def invoke(self, logical_id: str, event: dict[str, Any], request_id: str | None = None) -> Any:
        """Runs the handler in an instance of the function and returns its result.

        Raises InvocationError when the handler raised, InvocationTimeout when it ran past the
        function's Timeout (the caller decides what Lambda would do with either).
        """
        pool = self.pools[logical_id]
        instance = pool.acquire()
        started = time.monotonic()
        try:
            result = instance.invoke(
                event, self.context(logical_id, request_id), self.specs[logical_id].timeout
            )
        except InvocationTimeout:
            pool.discard()
            took = time.monotonic() - started
            console.warn(
                f"{logical_id} stopped after {took:.1f} s: its Timeout is {self.specs[logical_id].timeout} s"
            )
            raise
        except InstanceDied:
            pool.discard()
            raise
        except BaseException:
            pool.release(instance)
            raise
        pool.release(instance)
        return result

    def close(self) -> None:
        """Stops every idle instance, all at once (busy ones stop when their invocation ends)."""
        threads = [threading.Thread(target=pool.close, daemon=True) for pool in self.pools.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
