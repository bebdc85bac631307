"""Running a function's handler in this process, the way Lambda would call it.

Each function's module is imported once (a warm container). Invocations run one at a time across
the whole stack: in Lambda every function has a process of its own, here they share one, and the
layer's logger, metrics and the resolvers' current event are module-level state.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from infra.apps import ROOT, ensure_paths
from infra.lambda_events import LambdaContext
from infra.local import console
from infra.local.template import ACCOUNT_ID, REGION, FunctionSpec

__all__ = ["ROOT", "LambdaContext", "Runtime", "ensure_paths"]

Handler = Callable[[dict[str, Any], Any], Any]


class Runtime:
    """The functions of the stack, by logical id."""

    def __init__(self, specs: dict[str, FunctionSpec], stack_name: str) -> None:
        self.specs = specs
        self.stack_name = stack_name
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def function_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def handler(self, logical_id: str) -> Handler:
        found = self._handlers.get(logical_id)
        if found is None:
            spec = self.specs[logical_id]
            ensure_paths()
            module = importlib.import_module(spec.module)
            found = getattr(module, spec.attribute)
            if not callable(found):
                raise TypeError(f"{spec.module}.{spec.attribute} is not callable")
            self._handlers[logical_id] = found
        return found

    def warm(self) -> dict[str, BaseException]:
        """Imports every handler now; returns the ones that failed (they fail again when invoked)."""
        failed: dict[str, BaseException] = {}
        for logical_id in self.specs:
            try:
                self.handler(logical_id)
            except Exception as exc:
                failed[logical_id] = exc
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
        """Calls the handler; its exceptions propagate (the caller decides what Lambda would do)."""
        handler = self.handler(logical_id)
        with self._lock:
            started = time.monotonic()
            try:
                return handler(event, self.context(logical_id, request_id))
            finally:
                took = time.monotonic() - started
                if took > self.specs[logical_id].timeout:
                    console.warn(
                        f"{logical_id} ran {took:.1f} s, longer than its Timeout of "
                        f"{self.specs[logical_id].timeout} s (Lambda would have stopped it)"
                    )
