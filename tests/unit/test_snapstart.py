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
