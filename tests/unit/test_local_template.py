"""The local stack's pure parts: template reading, routes, intrinsics, event filters, event shapes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from infra.lambda_events import http_event, sqs_record, stream_record
from infra.local.filters import matches, parse_filters, passes, sqs_view
from infra.local.gateway import Cors, Router, to_http
from infra.local.pollers import failed_index
from infra.local.scheduler import rate_seconds
from infra.local.template import (
    Resolver,
    Route,
    TemplateError,
    functions,
    is_local_only,
    load_template,
    parse_template,
    plan_stack,
    references,
    routes,
    sam_transform,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return sam_transform(template, {"Stage": "dev"})


# ---------------------------------------------------------------------------------------- loading


def test_short_tags_become_long_forms() -> None:
    tpl = parse_template(
        """
AWSTemplateFormatVersion: 2010-09-09
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-a"
      Tags: [{Key: arn, Value: !GetAtt B.Arn}]
      Other: !If [IsProd, !Ref P, !Join ["-", [x, !Select [0, !Split [",", "a,b"]]]]]
      Cond: !Equals [!Ref Stage, prod]
"""
    )
    props = tpl["Resources"]["A"]["Properties"]
    assert tpl["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, not a date
    assert props["QueueName"] == {"Fn::Sub": "${AWS::StackName}-a"}
    assert props["Tags"][0]["Value"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["Other"]["Fn::If"][1] == {"Ref": "P"}
    assert props["Cond"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_not_a_template_is_refused() -> None:
    with pytest.raises(TemplateError):
        parse_template("just: a mapping\n")


# ---------------------------------------------------------------------------------------- routes


def test_routes_come_from_the_http_api_events(template: dict[str, Any]) -> None:
    found = routes(template)
    assert Route("GET", "/health", "SystemFunction") in found
    assert Route("POST", "/auth/login", "AuthFunction") in found
    assert Route("GET", "/tenants/{tenant_id}", "TenantsFunction") in found
    assert Route("ANY", "$default", "SystemFunction") in found
    assert Route("ANY", "$default", "SystemFunction").route_key == "$default"
    assert Route("PATCH", "/tenants/{tenant_id}", "X").route_key == "PATCH /tenants/{tenant_id}"


def test_route_matching_exact_then_templated_then_default() -> None:
    router = Router(
        [
            Route("GET", "/tenants/{tenant_id}", "Templated"),
            Route("GET", "/tenants/mine", "Exact"),
            Route("ANY", "/files/{proxy+}", "Greedy"),
            Route("GET", "/files/{id}/meta", "Specific"),
            Route("ANY", "$default", "Default"),
        ]
    )
    exact = router.match("GET", "/tenants/mine")
    assert exact is not None
    assert exact.route.function == "Exact"
    templated = router.match("get", "/tenants/ten%201")
    assert templated is not None
    assert templated.route.function == "Templated"
    assert templated.path_parameters == {"tenant_id": "ten 1"}
    wrong_method = router.match("DELETE", "/tenants/x")
    assert wrong_method is not None
    assert wrong_method.route.function == "Default"
    specific = router.match("GET", "/files/a/meta")
    assert specific is not None
    assert specific.route.function == "Specific"
    greedy = router.match("PUT", "/files/a/b/c")
    assert greedy is not None
    assert greedy.route.function == "Greedy"
    assert greedy.path_parameters == {"proxy": "a/b/c"}
    unknown = router.match("GET", "/nowhere")
    assert unknown is not None
    assert unknown.route.function == "Default"
    assert Router([Route("GET", "/a", "A")]).match("GET", "/b") is None


# ---------------------------------------------------------------------------------------- expansion


def test_functions_from_the_expanded_template(template: dict[str, Any], translated: dict[str, Any]) -> None:
    specs = functions(template, translated)
    auth = specs["AuthFunction"]
    assert auth.module == "functions.auth.app"
    assert auth.attribute == "lambda_handler"
    assert auth.environment["TABLE_NAME"] == {"Ref": "Table"}  # from Globals
    assert auth.environment["POWERTOOLS_SERVICE_NAME"] == "auth"
    assert specs["MailerFunction"].module == "functions.workers.mailer.app"
    assert specs["RelayFunction"].timeout == 30
    kinds = {(ev.function, ev.type) for spec in specs.values() for ev in spec.events}
    assert ("RelayFunction", "DynamoDB") in kinds
    assert ("MailerFunction", "SQS") in kinds
    assert ("OutboxSweepFunction", "Schedule") in kinds


def test_plan_drops_what_the_local_stack_plays(translated: dict[str, Any]) -> None:
    supported = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Events::Rule"}
    plan = plan_stack(
        translated,
        lambda kind: kind in supported,
        lambda logical_id, _: (f"local-{logical_id}", {"Arn": f"arn:local:{logical_id}"}),
    )
    kinds = {body["Type"] for body in plan.cloudformation["Resources"].values()}
    assert kinds <= supported
    assert not any(is_local_only(kind) for kind in kinds)
    assert "Outputs" not in plan.cloudformation
    assert "Table" in plan.cloudformation["Resources"]
    assert {"AppSecret", "MailSubscription", "Api5xxAlarm"} <= set(plan.provisioned)
    assert "AuthFunction" in plan.local
    assert "HttpApi" in plan.local
    # references to what the local stack plays are replaced, so moto can create the rest
    alarm = plan.provisioned["Api5xxAlarm"]["Properties"]
    assert {"Name": "ApiId", "Value": "local-HttpApi"} in alarm["Dimensions"]
    for body in plan.cloudformation["Resources"].values():
        assert not references(body.get("Properties", {})) & set(plan.local)


# ---------------------------------------------------------------------------------------- intrinsics


def test_resolver() -> None:
    r = Resolver(
        refs={"Stage": "dev", "Queue": "https://q", "AWS::Region": "us-east-1"},
        attrs={"Queue": {"Arn": "arn:aws:sqs:us-east-1:1:q"}},
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
    )
    assert r.resolve({"Fn::Sub": "a=${Queue},b=${Queue.Arn},r=${AWS::Region},${!Literal}"}) == (
        "a=https://q,b=arn:aws:sqs:us-east-1:1:q,r=us-east-1,${Literal}"
    )
    assert r.resolve({"Fn::Sub": ["${X}-${Stage}", {"X": {"Ref": "Queue"}}]}) == "https://q-dev"
    assert r.resolve({"Fn::If": ["IsProd", 1, 2]}) == 2
    assert r.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:aws:sqs:us-east-1:1:q"
    assert r.resolve({"Fn::Join": [",", ["a", {"Ref": "Stage"}]]}) == "a,dev"
    assert r.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    assert r.resolve({"Fn::And": [{"Condition": "IsProd"}, True]}) is False
    iam = {"Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "Queue"}}}}  # a policy's, not the intrinsic
    assert r.resolve(iam) == {"Condition": {"ArnEquals": {"aws:SourceArn": "https://q"}}}
    with pytest.raises(TemplateError):
        r.resolve({"Ref": "Missing"})


# ---------------------------------------------------------------------------------------- filters

RELAY_FILTER = {
    "Filters": [
        {"Pattern": '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["outbox"]}}}}'}
    ]
}


def _ddb(event_name: str, entity: str) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {"NewImage": {"entity": {"S": entity}}, "SequenceNumber": "1"},
    }


def test_relay_filter_from_the_template_shape() -> None:
    patterns = parse_filters(RELAY_FILTER)
    assert passes(_ddb("INSERT", "outbox"), patterns)
    assert not passes(_ddb("MODIFY", "outbox"), patterns)
    assert not passes(_ddb("INSERT", "user"), patterns)
    assert not passes({"eventName": "REMOVE", "dynamodb": {"OldImage": {}}}, patterns)
    assert passes({"anything": 1}, [])  # no filters: everything passes


def test_any_filter_of_several_lets_a_record_through() -> None:
    patterns = [{"a": ["x"]}, {"b": ["y"]}]
    assert passes({"b": "y"}, patterns)
    assert not passes({"a": "y", "b": "x"}, patterns)


@pytest.mark.parametrize(
    ("pattern", "data", "expected"),
    [
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["x"]}, {"a": ["z", "x"]}, True),  # an array matches when any element does
        ({"a": [5]}, {"a": 5.0}, True),
        ({"a": ["5"]}, {"a": 5}, False),
        ({"a": [True]}, {"a": 1}, False),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [None]}, {}, False),
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
        ({"a": [{"prefix": "ten_"}]}, {"a": "ten_1"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "x.jpg"}, False),
        ({"a": [{"prefix": {"equals-ignore-case": "TEN"}}]}, {"a": "ten_1"}, True),
        ({"a": [{"equals-ignore-case": "ABC"}]}, {"a": "abc"}, True),
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "z"}, True),
        ({"a": [{"anything-but": "x"}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": {"prefix": "int_"}}]}, {"a": "int_1"}, False),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 6}, False),
        ({"a": [{"numeric": [">", 0]}]}, {"a": "6"}, False),
        ({"a": [{"exists": True}]}, {"a": "v"}, True),
        ({"a": [{"exists": False}]}, {"b": 1}, True),
        ({"a": [{"exists": False}]}, {"a": 1}, False),
        ({"a": [{"wildcard": "ten_*_x"}]}, {"a": "ten_9_x"}, True),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": "2"}, True),
        ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"a": "2"}, False),
    ],
)
def test_pattern_matcher(pattern: dict[str, Any], data: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, data) is expected


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="lists or objects"):
        matches({"a": "x"}, {"a": "x"})
    with pytest.raises(ValueError, match="unsupported"):
        matches({"a": [{"regex": "x"}]}, {"a": "x"})


def test_sqs_filters_see_a_json_body_parsed() -> None:
    record = {"body": '{"type": "tenant.created"}', "messageId": "m"}
    assert passes(sqs_view(record), [{"body": {"type": ["tenant.created"]}}])
    assert not passes(sqs_view({"body": "plain"}), [{"body": {"type": ["tenant.created"]}}])


# ---------------------------------------------------------------------------------------- events


def test_http_event_is_payload_format_2() -> None:
    route = Route("GET", "/tenants/{tenant_id}", "TenantsFunction")
    match = Router([route]).match("GET", "/tenants/t1")
    assert match is not None
    event = http_event(
        "GET",
        "/tenants/t1?a=1&a=2&b=",
        headers=[("Accept", "a"), ("X-Multi", "1"), ("x-multi", "2"), ("Cookie", "s=1; t=2")],
        body=b"",
        source_ip="127.0.0.1",
        route_key=match.route.route_key,
        path_parameters=match.path_parameters,
        request_id="rid",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /tenants/{tenant_id}"
    assert event["rawPath"] == "/tenants/t1"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"tenant_id": "t1"}
    assert event["headers"]["x-multi"] == "1,2"
    assert event["headers"]["accept"] == "a"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "GET",
        "path": "/tenants/t1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert ctx["requestId"] == "rid"
    assert ctx["stage"] == "$default"
    assert ctx["routeKey"] == "GET /tenants/{tenant_id}"
    assert isinstance(ctx["timeEpoch"], int)
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_http_event_body_text_or_base64() -> None:
    match = Router([Route("ANY", "$default", "F")]).match("POST", "/x")
    assert match is not None
    common: dict[str, Any] = {"source_ip": "127.0.0.1", "route_key": match.route.route_key, "request_id": "r"}
    text = http_event("POST", "/x", body=b'{"a": 1}', **common)
    assert text["body"] == '{"a": 1}'
    assert text["isBase64Encoded"] is False
    assert text["routeKey"] == "$default"
    binary = http_event("POST", "/x", body=b"\xff\x00", **common)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"


def test_handler_results_become_http_responses() -> None:
    stub = to_http(None, "r")
    assert stub.status == 502
    assert json.loads(stub.body)["error"]["request_id"] == "r"
    full = to_http(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain"},
            "cookies": ["a=1", "b=2"],
            "body": base64.b64encode(b"hi").decode(),
            "isBase64Encoded": True,
        },
        "r",
    )
    assert full.status == 201
    assert full.body == b"hi"
    assert ("set-cookie", "a=1") in full.headers
    assert ("set-cookie", "b=2") in full.headers
    bare = to_http({"ok": True}, "r")  # payload 2.0 without statusCode: 200 with the value as JSON
    assert (bare.status, json.loads(bare.body)) == (200, {"ok": True})


def test_cors_like_api_gateway() -> None:
    cors = Cors.from_config(
        {
            "AllowOrigins": ["https://app.example.com"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["authorization"],
            "ExposeHeaders": ["x-request-id"],
            "MaxAge": 600,
        }
    )
    assert cors is not None
    pre = cors.preflight({"origin": "https://app.example.com", "access-control-request-method": "POST"})
    assert pre is not None
    assert pre["access-control-allow-origin"] == "https://app.example.com"
    assert pre["access-control-max-age"] == "600"
    assert cors.preflight({"origin": "https://evil.example"} | {"access-control-request-method": "GET"}) == {}
    assert cors.preflight({"origin": "https://app.example.com"}) is None  # not a preflight
    assert cors.response_headers({"origin": "https://app.example.com"})["access-control-expose-headers"] == (
        "x-request-id"
    )


def test_stream_and_sqs_records_have_lambda_shapes() -> None:
    from datetime import UTC, datetime

    raw = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"PK": {"S": "a"}},
            "NewImage": {"PK": {"S": "a"}, "blob": {"B": b"\x01"}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    rec = stream_record(raw, "arn:stream")
    assert rec["eventSourceARN"] == "arn:stream"
    assert rec["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
    assert rec["dynamodb"]["NewImage"]["blob"] == {"B": "AQ=="}
    json.dumps(rec)  # plain JSON, as Lambda delivers it

    msg = sqs_record(
        {
            "MessageId": "m1",
            "ReceiptHandle": "rh",
            "Body": "{}",
            "MD5OfBody": "md5",
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
            "MessageAttributes": {
                "event_type": {"StringValue": "tenant.created", "DataType": "String"},
                "raw": {"BinaryValue": b"\x00", "DataType": "Binary"},
            },
        },
        "arn:aws:sqs:us-east-1:123456789012:q",
    )
    assert msg["eventSource"] == "aws:sqs"
    assert msg["md5OfBody"] == "md5"
    assert msg["messageAttributes"]["event_type"] == {
        "stringValue": "tenant.created",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert msg["messageAttributes"]["raw"]["binaryValue"] == "AA=="


def test_partial_batch_failures() -> None:
    props = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    ids = ["1", "2", "3"]
    assert failed_index({"batchItemFailures": []}, ids, props) is None
    assert (
        failed_index({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}, ids, props)
        == 1
    )
    assert failed_index({"batchItemFailures": [{"itemIdentifier": "9"}]}, ids, props) == 0  # unknown: all
    assert failed_index({"batchItemFailures": [{"itemIdentifier": "2"}]}, ids, {}) is None  # not opted in


def test_schedule_rates() -> None:
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(2 days)") == 172800
    assert rate_seconds("cron(0 3 * * ? *)") is None


class _FakeRuntime:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []

    def invoke(self, logical_id: str, event: dict[str, Any], request_id: str | None = None) -> Any:
        self.calls.append((logical_id, event, request_id))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _gateway_answer(answer: Any, method: str = "GET", path: str = "/x") -> tuple[int, dict[str, str], Any]:
    from infra.local.gateway import Gateway

    gateway = Gateway(0)
    try:
        gateway.configure(_FakeRuntime(answer), [Route("ANY", "$default", "F")], None)  # type: ignore[arg-type]
        result = gateway.handle(method, path, [("Host", "127.0.0.1")], b"", "127.0.0.1")
    finally:
        gateway.shutdown()
    headers = dict(result.headers)
    return result.status, headers, json.loads(result.body) if result.body else None


def test_gateway_answers_500_when_the_handler_raises(capsys: pytest.CaptureFixture[str]) -> None:
    status, headers, body = _gateway_answer(RuntimeError("boom"))
    assert status == 500
    assert body["error"] == {
        "code": "API_008",
        "message": "Server error",
        "request_id": headers["apigw-requestid"],
    }
    assert "RuntimeError: boom" in capsys.readouterr().out  # the traceback is on the console


def test_gateway_answers_502_when_a_stub_returns_nothing() -> None:
    status, _, body = _gateway_answer(None)
    assert status == 502
    assert body["error"]["code"] == "API_008"


def test_gateway_passes_the_handler_response_through() -> None:
    answer = {"statusCode": 404, "headers": {"content-type": "application/json"}, "body": '{"error": {}}'}
    status, headers, body = _gateway_answer(answer)
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert body == {"error": {}}
