"""Benchmark: flag evaluation (issue 9).

`run()` returns the p50/p95 of evaluating 100 flags with rules (tenants, plan + role with a
percentage, region + users, then a flag-wide rollout) for one subject, in process and warm, and
the cold import of the flags function against the lightest API function (system), CPU time of a
fresh interpreter importing each handler module, median of 7 paired rounds. The DynamoDB calls
of a warm `evaluate_flags` are in the cold-start table (`FlagsFunction`, `calls`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

from infra.apps import ROOT

IMPORT = (
    "import os, sys, time; t = time.process_time(); import importlib; "
    "importlib.import_module(sys.argv[1]); print((time.process_time() - t) * 1000)"
)


def _import_ms(module: str) -> float:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'keel'}:{ROOT}", "LAMBDA_TASK_ROOT": str(ROOT)}
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    out = subprocess.run(
        [sys.executable, "-c", IMPORT, module], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(rounds: int = 7) -> dict[str, Any]:
    from keel.flags import engine
    from tests.unit.test_flag_engine import hundred_flags

    flags = hundred_flags()
    subject = engine.Subject("ten_x", "usr_x", "pharmacist", "professional", "ng-abuja")
    samples = []
    for _ in range(2000):
        start = time.perf_counter()
        engine.evaluate_all(flags, subject)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    pairs = [(_import_ms("functions.flags.app"), _import_ms("functions.system.app")) for _ in range(rounds)]
    return {
        "evaluate_100_flags_p50_ms": round(statistics.median(samples), 4),
        "evaluate_100_flags_p95_ms": round(samples[int(len(samples) * 0.95)], 4),
        "import_flags_ms": round(statistics.median(p[0] for p in pairs), 1),
        "import_system_ms": round(statistics.median(p[1] for p in pairs), 1),
        "import_ratio_flags_to_system": round(statistics.median(p[0] / p[1] for p in pairs), 3),
    }
