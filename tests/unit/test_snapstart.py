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
