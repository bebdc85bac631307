"""SnapStart: every function publishes a snapshotted version, and everything invokes its alias.

$LATEST has no snapshot: a route, queue, stream or schedule wired to the function itself would
still pay the full initialisation on every new instance.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.stack import translated


def _resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated()["Resources"].items() if v["Type"] == kind}


def test_every_function_snapshots_its_published_versions() -> None:
    functions = _resources("AWS::Lambda::Function")
    assert functions
    for name, body in functions.items():
        assert body["Properties"].get("Runtime") == "python3.12", name  # SnapStart needs 3.12+
        assert body["Properties"].get("SnapStart") == {"ApplyOn": "PublishedVersions"}, name
    aliases = {v["Properties"]["FunctionName"]["Ref"] for v in _resources("AWS::Lambda::Alias").values()}
    assert aliases == set(functions)


def test_routes_queues_stream_and_schedules_invoke_the_alias() -> None:
    functions = set(_resources("AWS::Lambda::Function"))
    api = next(iter(_resources("AWS::ApiGatewayV2::Api").values()))
    uris = [
        op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for ops in api["Properties"]["Body"]["paths"].values()
        for op in ops.values()
    ]
    assert uris
    for uri in uris:
        target = uri.split("functions/${", 1)[1].split("}", 1)[0]
        assert target.endswith("Aliaslive"), uri
    targets = [
        m["Properties"]["FunctionName"] for m in _resources("AWS::Lambda::EventSourceMapping").values()
    ]
    targets += [
        t["Arn"] for r in _resources("AWS::Events::Rule").values() for t in r["Properties"]["Targets"]
    ]
    targets += [p["Properties"]["FunctionName"] for p in _resources("AWS::Lambda::Permission").values()]
    assert targets
    for target in targets:
        assert target["Ref"].endswith("Aliaslive"), json.dumps(target)
        assert target["Ref"] not in functions, json.dumps(target)


def test_priming_builds_every_route_and_the_client_without_calling_aws(monkeypatch: Any) -> None:
    """The before-snapshot hook of each API function: every route's validation is built, the DynamoDB
    client exists, and nothing was called (the endpoint is a closed port: a call would fail)."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from infra.apps import function_module
    from keel.core import aws, coldstart
    from keel.http.app import prime
    from tests.support.stack import template

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset()
    apps = []
    for body in template()["Resources"].values():
        if body["Type"] == "AWS::Serverless::Function":
            module = function_module(body["Properties"]["CodeUri"], body["Properties"]["Handler"])
            if isinstance(getattr(module, "app", None), APIGatewayHttpResolver):
                apps.append(module.app)
    assert len(apps) >= 10
    assert coldstart._snapshot_hooks  # registered by `entrypoint` (outside Lambda's runtime: kept here)
    try:
        for app in apps:
            prime(app)
            routes = [*app._static_routes, *app._dynamic_routes]
            assert routes
            assert all(route._dependant is not None for route in routes)
        assert aws.client.cache_info().currsize == 1  # the DynamoDB client, made once
    finally:
        aws.reset()


# What each worker's and schedule's before-snapshot hooks must leave built: its AWS clients (the
# services its first invocation calls) and, for the consumers, the idempotency wrapper and envelope.
PRIMED_CLIENTS = {
    "RelayFunction": {"dynamodb", "sns"},
    "MailerFunction": {"dynamodb", "ses"},
    "NotifierFunction": {"dynamodb", "sqs", "ses", "sns", "secretsmanager"},
    "NotifyBatchesFunction": {"dynamodb", "sqs", "ses", "sns", "secretsmanager"},
    "CheckoutNotifierFunction": {"dynamodb", "sqs", "ses", "sns", "secretsmanager"},
    "GatewayEventsFunction": {"dynamodb"},
    "WebhookFanoutFunction": {"dynamodb", "sqs"},
    "WebhookDeliveryFunction": {"dynamodb", "sqs"},
    "WebhookSlowDeliveryFunction": {"dynamodb", "sqs"},
    "LiftSuspensionsFunction": {"dynamodb"},
    "OutboxSweepFunction": {"dynamodb", "sns"},
    "NotifyDueFunction": {"dynamodb", "sqs"},
    "ReleaseHoldsFunction": {"dynamodb"},
    "FlagChangesFunction": {"dynamodb"},
    "WebhookRetriesFunction": {"dynamodb", "sqs"},
    "ReconcileSubscriptionsFunction": {"dynamodb"},
    "EraseBuyerDataFunction": {"dynamodb"},
    "SesFeedbackFunction": {"dynamodb", "sqs"},
}

_PRIME_CHILD = r"""
import importlib, json, os, sys
from unittest import mock
import boto3
made = []
real = boto3.client
def spy(service, *a, **k):
    made.append(service)
    return real(service, *a, **k)
with mock.patch.object(boto3, "client", spy):
    module = importlib.import_module(sys.argv[1])
    imported = list(made)
    from keel.core import coldstart
    from keel.events.consume import Consumer
    coldstart.run_before_snapshot()  # raises if a hook calls AWS (the endpoint is a closed port)
consumers = [v for v in vars(module).values() if isinstance(v, Consumer)]
out = {"at_import": imported, "primed": sorted(set(made)),
       "consumers_primed": all(c._wrapped is not None for c in consumers), "consumers": len(consumers)}
if "keel.store.outbox" in sys.modules:
    out["envelope_built"] = sys.modules["keel.store.outbox"].DomainEvent.__pydantic_complete__
if "keel.webhooks.sender" in sys.modules:
    out["session"] = sys.modules["keel.webhooks.sender"]._session is not None
print(json.dumps(out))
"""


def test_workers_and_schedules_prime_their_clients_without_calling_aws() -> None:
    """Each non-API function in its own process, as Lambda initialises it: importing makes no client;
    the before-snapshot hooks make exactly the clients its first invocation uses, prime the consumers'
    idempotency and the event envelope, without a single call (AWS is a closed port)."""
    import os
    import subprocess
    import sys

    from infra.apps import ROOT
    from tests.support.stack import template

    functions = {
        name: body["Properties"]
        for name, body in template()["Resources"].items()
        if body["Type"] == "AWS::Serverless::Function"
        and not any(e["Type"] == "HttpApi" for e in (body["Properties"].get("Events") or {}).values())
    }
    assert set(functions) == set(PRIMED_CLIENTS)  # a new worker or schedule: say what it primes
    env = os.environ | {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "keel")]),
    }
    for name, props in functions.items():
        code_uri, handler = str(props["CodeUri"]), str(props["Handler"])
        dotted = ".".join([*code_uri.strip("/").split("/"), handler.rsplit(".", 1)[0]])
        env_fn = env | {k: str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()}
        run = subprocess.run(
            [sys.executable, "-c", _PRIME_CHILD, dotted],
            env=env_fn,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, (name, run.stderr[-2000:])
        out = json.loads(run.stdout.strip().splitlines()[-1])
        assert out["at_import"] == [], (name, out)  # cold start unchanged: clients are made by the hooks
        assert set(out["primed"]) == PRIMED_CLIENTS[name], (name, out)
        assert out["consumers_primed"], (name, out)
        if "envelope_built" in out and (out["consumers"] or "Fanout" in name):
            assert out["envelope_built"], (name, out)
        if "Delivery" in name:
            assert out["session"], (name, out)
