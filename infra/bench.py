"""`make bench`: cold import time per function, DynamoDB calls per request, warm latency.

Everything runs on this machine against moto in-process; figures are medians of several runs.
Areas add their own figures through `infra/bench_<area>.py` modules with a `run() -> dict`.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from infra.apps import ROOT

COLD_RUNS = 5
WARM_RUNS = 200
# a bare Powertools handler: boto3, Logger, Metrics and Tracer, and nothing of ours
BASELINE = (
    "import boto3\nfrom aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "logger, metrics, tracer = Logger(), Metrics(), Tracer()\n"
    "@logger.inject_lambda_context\n@tracer.capture_lambda_handler\ndef handler(event, context): return {}\n"
)


def _import_seconds(statement: str) -> float:
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers' / 'keel'}{os.pathsep}{ROOT}",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_imports() -> dict[str, Any]:
    baseline = statistics.median(_import_seconds(BASELINE) for _ in range(COLD_RUNS))
    rows: dict[str, Any] = {"baseline_ms": round(baseline * 1000, 1), "functions": {}}
    for path in sorted((ROOT / "functions").rglob("app.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        median = statistics.median(_import_seconds(f"import {module}") for _ in range(COLD_RUNS))
        rows["functions"][module] = {"ms": round(median * 1000, 1), "ratio": round(median / baseline, 2)}
    return rows


class CallCounter:
    """Counts DynamoDB API calls made through the shared client."""

    def __init__(self) -> None:
        from keel.core import aws

        self.calls: list[str] = []
        aws.client("dynamodb").meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def measure(self, fn: Callable[[], Any]) -> list[str]:
        self.calls.clear()
        fn()
        return list(self.calls)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


def requests_in_process() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    from tests.support.actors import PASSWORD, super_admin, tenant_admin
    from tests.support.http import Api
    from tests.support.stack import moto_stack

    out: dict[str, Any] = {}
    with moto_stack() as stack:
        api = Api(stack)
        root = super_admin(api)
        boss = tenant_admin(api, root)
        counter = CallCounter()
        cases: dict[str, Callable[[], Any]] = {
            "get_tenant": lambda: api.get(f"/tenants/{boss.tenant_id}", token=boss.token),
            "list_audit_logs": lambda: api.get("/audit-logs", token=boss.token, query={"limit": 50}),
            # last: logging in again and again ends the oldest sessions (max concurrent sessions)
            "login": lambda: api.post("/auth/login", {"email": boss.email, "password": PASSWORD}),
        }
        for name, call in cases.items():
            calls = counter.measure(call)
            runs = 30 if name == "login" else WARM_RUNS
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                reply = call()
                samples.append(time.perf_counter() - start)
                assert reply.status == 200, reply.text
            out[name] = {"dynamodb_calls": len(calls), "calls": calls, **_percentiles(samples), "runs": runs}
    return out


def area_benches() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted((ROOT / "infra").glob("bench_*.py")):
        module = importlib.import_module(f"infra.{path.stem}")
        found[path.stem.removeprefix("bench_")] = module.run()
    return found


def main() -> int:
    report = {"cold_imports": cold_imports(), "requests": requests_in_process(), **area_benches()}
    out = ROOT / ".keel" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    cold = report["cold_imports"]
    print(f"cold import (median of {COLD_RUNS}); baseline boto3+powertools {cold['baseline_ms']} ms")
    for module, row in cold["functions"].items():
        print(f"  {module:<45} {row['ms']:>8.1f} ms  x{row['ratio']}")
    print(f"requests in-process against moto (warm; p50/p99 of {WARM_RUNS}, login of 30)")
    for name, row in report["requests"].items():
        print(
            f"  {name:<20} {row['dynamodb_calls']} DynamoDB calls"
            f"  p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms"
        )
    for area, figures in report.items():
        if area not in {"cold_imports", "requests"}:
            print(f"{area}: {json.dumps(figures)}")
    print(f"(full report: {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "keel"), str(ROOT)]
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(k, "testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    raise SystemExit(main())
