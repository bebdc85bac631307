"""One Lambda cold start, run by `make bench` in the layer-only venv (standard library only here).

The environment is the function's (set by the parent): `_HANDLER`, `LAMBDA_TASK_ROOT`, the
template's variables, the tracer on, AWS pointed at the canned-answer endpoint. Times the import
of the handler module, the first invocation, then warm invocations of the same event, and prints
one JSON line. Between phases it tells the endpoint, so the calls made by each are counted apart.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402

IMPORTED_STDLIB = time.perf_counter()


CPU: list[float] = []  # process CPU time of each invocation


class Context:
    def __init__(self, name: str, timeout: int) -> None:
        self.function_name = name
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def mark(phase: str) -> None:
    url = f"{os.environ['AWS_ENDPOINT_URL']}/__bench/mark?phase={phase}"
    with urllib.request.urlopen(url, timeout=5) as reply:
        reply.read()


def invoke(handler: object, event: dict, name: str) -> tuple[float, object]:
    # Lambda sets a trace header per invocation; X-Ray's Lambda context reads it
    os.environ["_X_AMZN_TRACE_ID"] = (
        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=1"
    )
    start, cpu = time.perf_counter(), time.process_time()
    out = handler(event, Context(name, 30))  # type: ignore[operator]
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, out


def status_of(out: object) -> object:
    if isinstance(out, dict):
        if "statusCode" in out:
            return out["statusCode"]
        if "batchItemFailures" in out:
            return f"failures={len(out['batchItemFailures'])}"
    return "ok"


def main() -> int:
    event_file, warm_runs = sys.argv[1], int(sys.argv[2])
    with open(event_file) as f:
        event = json.load(f)
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    module_name, attr = os.environ["_HANDLER"].rsplit(".", 1)
    t0, c0 = time.perf_counter(), time.process_time()
    handler = getattr(importlib.import_module(module_name), attr)
    t1, c1 = time.perf_counter(), time.process_time()
    hooks_cpu = 0.0
    if os.environ.get("BENCH_SNAPSTART"):  # play a SnapStart restore: the hooks Lambda runs before it
        c2 = time.process_time()
        if "keel.core.coldstart" in sys.modules:  # the snapshot (a baseline has none)
            sys.modules["keel.core.coldstart"].run_before_snapshot()
        hooks_cpu = time.process_time() - c2
    mark("first")
    first, out = invoke(handler, event, name)
    mark("warm")
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # `BENCH_PROFILE=1 make bench`: where warm time goes (stderr)
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    warm = [invoke(handler, event, name)[0] for _ in range(warm_runs)]
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    mark("done")
    heavy = [
        m
        for m in (
            "requests",
            "sqlite3",
            "twilio",
            "stripe",
            "phonenumbers",
            "email_validator",
            "pydantic_settings",
            "argon2",
            "pyotp",
            "cryptography",
        )
        if m in sys.modules
    ]
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "import_cpu_s": c1 - c0,
                "snapshot_hooks_cpu_s": hooks_cpu,
                "first_s": first,
                "first_cpu_s": CPU[0],
                "warm_s": warm,
                "warm_cpu_s": CPU[1:],
                "status": status_of(out),
                "modules": len(sys.modules),
                "loaded": heavy,
                "stdlib_s": IMPORTED_STDLIB - STARTED,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
