"""`make bench`: cold starts measured as Lambda pays them, per function, against bare handlers.

Each function runs in its own process, in a venv that holds only the layer's requirements
(`.keel/bench/venv`), with the environment Lambda gives it (`LAMBDA_TASK_ROOT`, `_HANDLER`, the
template's variables, the tracer on). The process imports the handler module, answers one first
invocation (its cold start), then warm ones. AWS is a local endpoint replaying answers recorded
against moto (`infra/benchkit/stub.py`), so latency is our code's plus botocore's, not moto's; the
endpoint counts the calls each invocation makes. Rounds alternate the function and two baselines
(boto3 + Powertools Logger, Metrics and Tracer, one DynamoDB GetItem per invocation: `powertools`
with Powertools' defaults, `floor` with the Tracer patching botocore only) in the same
environment; ratios are medians of the per-round ratios.

Areas add their own figures through `infra/bench_<area>.py` modules with a `run() -> dict`.
Writes `.keel/bench.json`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from infra.apps import ROOT

BENCH_DIR = ROOT / ".keel" / "bench"
CHILD = ROOT / "infra" / "benchkit" / "child.py"
BASELINE = '''"""The baseline: a bare boto3 + Powertools handler with one DynamoDB read."""
import json
import os

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer

logger, metrics, tracer = Logger(), Metrics(), Tracer(TRACER_ARGS)
_client = None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    global _client
    _client = _client or boto3.client("dynamodb")
    key = {"PK": {"S": "BENCH"}, "SK": {"S": "BENCH"}}
    item = _client.get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item") or {}
    return {"statusCode": 200, "body": json.dumps(item)}
'''
# "resolver" (API functions only): the floor plus what the project's stack requires of every API
# function, Powertools' validating resolver with one pydantic-modelled route, initialised as ours are
# (no cyclic GC until the end of init, keel.core.coldstart). Its ratio to "powertools" is the least
# an API function can reach; a function's ratio to it is what our own code costs.
RESOLVER = '''"""The resolver floor: the floor, Powertools' validating resolver, one pydantic route."""
import gc

gc.disable()
import os  # noqa: E402

import boto3  # noqa: E402
from aws_lambda_powertools import Logger, Metrics, Tracer  # noqa: E402
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver  # noqa: E402
from pydantic import BaseModel  # noqa: E402

logger, metrics, tracer = Logger(), Metrics(), Tracer(patch_modules=["botocore"])
app = APIGatewayHttpResolver(enable_validation=True)
_client = None


class Item(BaseModel):
    pk: str
    sk: str


@app.get("/bench/<item_id>")
def get_item(item_id: str) -> Item:
    global _client
    _client = _client or boto3.client("dynamodb")
    key = {"PK": {"S": "BENCH"}, "SK": {"S": item_id}}
    _client.get_item(TableName=os.environ["TABLE_NAME"], Key=key)
    return Item(pk="BENCH", sk=item_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return app.resolve(event, context)


gc.freeze()
gc.enable()
'''
# "powertools": Powertools' defaults, as its docs write a handler (the Tracer patches every library
# X-Ray supports); the targets are against it. "floor": the same with the Tracer patching botocore
# only, the least any function of ours can cost.
BASELINES = {"powertools": "", "floor": 'patch_modules=["botocore"]'}
WARM = {"RelayFunction": 15, "MailerFunction": 30}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _child(python: Path, env: dict[str, str], event_file: Path, warm: int) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), str(CHILD), str(event_file), str(warm)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"bench child failed ({env.get('AWS_LAMBDA_FUNCTION_NAME')}):\n{out.stderr[-3000:]}"
        )
    if os.environ.get("BENCH_PROFILE") and "baseline" not in env.get("PYTHONPATH", ""):
        print(out.stderr[-12000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def cold_starts(rounds: int, warm: int, only: set[str] | None) -> dict[str, Any]:
    from infra.benchkit.lambda_env import function_env, layer_python
    from infra.benchkit.scenarios import record
    from infra.benchkit.stub import Endpoint
    from tests.support.stack import template

    python = layer_python()
    recorded = record()
    sources = {kind: BASELINE.replace("TRACER_ARGS", args) for kind, args in BASELINES.items()}
    for kind, source in (sources | {"resolver": RESOLVER}).items():
        (BENCH_DIR / "baseline" / kind).mkdir(parents=True, exist_ok=True)
        (BENCH_DIR / "baseline" / kind / "app.py").write_text(source)
    (BENCH_DIR / "events").mkdir(exist_ok=True)
    report: dict[str, Any] = {"rounds": rounds, "functions": {}}
    names = [n for n in recorded.scenarios if not only or n in only]
    for name in names:
        scenario = recorded.scenarios[name]
        event_file = BENCH_DIR / "events" / f"{name}.json"
        event_file.write_text(json.dumps(scenario.fresh() if scenario.fresh else scenario.event))
        with Endpoint(scenario.responses) as endpoint:
            env = function_env(template(), name) | recorded.env | {"AWS_ENDPOINT_URL": endpoint.url}
            base_envs = {
                kind: env
                | {
                    "LAMBDA_TASK_ROOT": str(BENCH_DIR / "baseline" / kind),
                    "PYTHONPATH": str(BENCH_DIR / "baseline" / kind),
                    "_HANDLER": "app.lambda_handler",
                    "POWERTOOLS_SERVICE_NAME": "baseline",
                }
                for kind in (*BASELINES, "resolver")
            }
            is_api = scenario.event.get("version") == "2.0" and "routeKey" in scenario.event
            pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
            floors: list[dict[str, Any]] = []
            resolvers: list[tuple[dict[str, Any], dict[str, Any]]] = []
            restored: list[dict[str, Any]] = []  # SnapStart: the hooks run, then the first request
            counts: dict[str, Counter[str]] = {}
            for _ in range(rounds):
                base = _child(python, base_envs["powertools"], event_file, 3)
                endpoint.reset()
                run = _child(python, env, event_file, WARM.get(name, warm))
                counts = {phase: Counter(c) for phase, c in endpoint.counts.items()}
                floors.append(_child(python, base_envs["floor"], event_file, 3))
                restored.append(_child(python, env | {"BENCH_SNAPSTART": "1"}, event_file, 3))
                pairs.append((base, run))
                if is_api:
                    resolvers.append((_child(python, base_envs["resolver"], event_file, 3), base))
        row = report["functions"][name] = _summary(scenario, pairs, counts)
        row["floor_import_cpu_ms"] = _ms(statistics.median(f["import_cpu_s"] for f in floors))
        row["import_ratio_to_floor"] = _ratio(
            list(zip(floors, [r for _, r in pairs], strict=True)), lambda r: r["import_cpu_s"]
        )
        _restored(row, pairs, restored)
        resolver = ""
        if resolvers:
            row["resolver_import_cpu_ms"] = _ms(statistics.median(r["import_cpu_s"] for r, _ in resolvers))
            # the resolver floor / the Powertools baseline; the function / the resolver floor
            row["resolver_ratio"] = _ratio([(b, r) for r, b in resolvers], lambda r: r["import_cpu_s"])
            row["import_ratio_to_resolver"] = _ratio(
                [(r, f) for (r, _), (_, f) in zip(resolvers, pairs, strict=True)], lambda r: r["import_cpu_s"]
            )
            resolver = f"  resolver floor x{row['resolver_ratio']}"
            resolver += f", function / resolver floor x{row['import_ratio_to_resolver']}"
        print(
            f"  {name:<24} {row['import_cpu_ms']:>6.1f} {'x' + str(row['import_ratio']):<6}"
            f" {'x' + str(row['import_ratio_to_floor']):<6} {'x' + str(row['import_ratio_wall']):<6}"
            f" {row['cold_cpu_ms']:>6.1f} {'x' + str(row['cold_ratio']):<6}"
            f" {'x' + str(row['cold_ratio_wall']):<6} {row['warm_p50_ms']:>7} {row['first_calls']:>5}"
            + resolver
            + f"  1st request: x{row['first_ratio']}, restored x{row['restored_first_ratio']}"
            + ("" if row["status"] in (200, "ok", "failures=0") else f"  (answered {row['status']})"),
            flush=True,
        )
    return report


def _restored(
    row: dict[str, Any], pairs: list[tuple[dict[str, Any], dict[str, Any]]], restored: list[Any]
) -> None:
    """The first request of an initialised instance (what a SnapStart restore runs; the restore itself,
    Lambda paging the snapshot in, is not measured here), against the Powertools baseline's first
    request: as initialised (no priming), and restored (the `before_snapshot` hooks ran before)."""

    def first(r: dict[str, Any]) -> float:
        return float(r["first_cpu_s"])

    bases = [b for b, _ in pairs]
    row["first_cpu_ms"] = _ms(statistics.median(first(r) for _, r in pairs))
    row["baseline_first_cpu_ms"] = _ms(statistics.median(first(b) for b in bases))
    row["first_ratio"] = _ratio(pairs, first)
    row["restored_first_cpu_ms"] = _ms(statistics.median(first(r) for r in restored))
    row["restored_first_ratio"] = _ratio(list(zip(bases, restored, strict=True)), first)
    row["snapshot_hooks_cpu_ms"] = _ms(statistics.median(r["snapshot_hooks_cpu_s"] for r in restored))


def _ratio(pairs: list[tuple[dict[str, Any], dict[str, Any]]], measure: Any) -> float:
    """The median of the per-round ratios function / baseline."""
    return round(statistics.median([measure(r) / measure(b) for b, r in pairs]), 2)


def _summary(
    scenario: Any, pairs: list[tuple[dict[str, Any], dict[str, Any]]], counts: dict[str, Counter[str]]
) -> dict[str, Any]:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    def cold(r: dict[str, Any]) -> float:
        return float(r["import_s"] + r["first_s"])

    def cold_cpu(r: dict[str, Any]) -> float:
        return float(r["import_cpu_s"] + r["first_cpu_s"])

    warm = sorted(s for _, r in pairs for s in r["warm_s"])
    first = dict(counts.get("first", Counter()))
    row: dict[str, Any] = {
        "first_invocation": scenario.label,
        "status": pairs[-1][1]["status"],
        # CPU time of the process: what the import costs, whatever else the machine is doing
        "import_cpu_ms": _ms(med([r["import_cpu_s"] for _, r in pairs])),
        "baseline_import_cpu_ms": _ms(med([b["import_cpu_s"] for b, _ in pairs])),
        "import_ratio": _ratio(pairs, lambda r: r["import_cpu_s"]),
        "cold_cpu_ms": _ms(med([cold_cpu(r) for _, r in pairs])),
        "baseline_cold_cpu_ms": _ms(med([cold_cpu(b) for b, _ in pairs])),
        "cold_ratio": _ratio(pairs, cold_cpu),
        # wall clock: what Lambda bills and the caller waits, inflated here by the machine's load
        "import_ms": _ms(med([r["import_s"] for _, r in pairs])),
        "baseline_import_ms": _ms(med([b["import_s"] for b, _ in pairs])),
        "import_ratio_wall": _ratio(pairs, lambda r: r["import_s"]),
        "cold_ms": _ms(med([cold(r) for _, r in pairs])),
        "baseline_cold_ms": _ms(med([cold(b) for b, _ in pairs])),
        "cold_ratio_wall": _ratio(pairs, cold),
        "warm_p50_ms": round(med(warm) * 1000, 2),
        "warm_p99_ms": round(warm[min(len(warm) - 1, int(len(warm) * 0.99))] * 1000, 2),
        "first_calls": sum(first.values()),
        "first_calls_detail": first,
        "dynamodb_calls_first": sum(v for k, v in first.items() if k in _DYNAMODB_OPS),
        "modules_loaded": pairs[-1][1]["modules"],
        "heavy_modules_loaded": pairs[-1][1]["loaded"],
    }
    if scenario.records:
        row["records_per_invocation"] = scenario.records
        row["calls_per_record"] = round(sum(first.values()) / scenario.records, 2)
        row["records_per_second_warm"] = round(scenario.records / med(warm))
        # the same per CPU-second of the function's process (what the machine's load does not inflate)
        cpu = [s for _, r in pairs for s in r["warm_cpu_s"]]
        row["records_per_cpu_second_warm"] = round(scenario.records / med(cpu))
    return row


_DYNAMODB_OPS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "DescribeTable",
}


def area_benches() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted((ROOT / "infra").glob("bench_*.py")):
        module = importlib.import_module(f"infra.{path.stem}")
        found[path.stem.removeprefix("bench_")] = module.run()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="paired cold starts per function")
    parser.add_argument("--warm", type=int, default=50, help="warm invocations per cold start")
    parser.add_argument("--only", default="", help="comma-separated logical ids (e.g. TenantsFunction)")
    parser.add_argument("--no-areas", action="store_true", help="skip infra/bench_<area>.py")
    args = parser.parse_args(argv)
    print(f"cold start per function (layer-only venv, tracer on, {args.rounds} paired rounds, medians)")
    print("  ratios: to the Powertools baseline, to the floor (CPU time); wall: to the Powertools baseline")
    print(
        f"  {'function':<24} {'import CPU ms, ratios':<27} {'cold+1st CPU ms, ratios':<21}"
        f" {'warm p50':>7} {'calls':>5}"
    )
    report: dict[str, Any] = {
        "cold_starts": cold_starts(args.rounds, args.warm, set(filter(None, args.only.split(","))))
    }
    if not args.no_areas:
        report |= area_benches()
    out = ROOT / ".keel" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    for area, figures in report.items():
        if area != "cold_starts":
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
