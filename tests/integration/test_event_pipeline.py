"""Outbox -> stream -> relay -> SNS (attributes) -> SQS (filter policy) -> worker -> DLQ."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from keel.core import clock
from tests.support.actors import Actor, super_admin
from tests.support.http import Api
from tests.support.pipeline import Pipeline


@pytest.fixture
def root(api: Api) -> Actor:
    return super_admin(api)


def _create(api: Api, root: Actor, email: str = "new@co.example.com") -> dict[str, Any]:
    reply = api.post(
        "/tenants", {"name": "Pipe Co", "admin": {"email": email, "name": "P"}}, token=root.token
    )
    assert reply.status == 201
    return dict(reply.json)


def test_outbox_item_is_written_with_the_change(api: Api, root: Actor) -> None:
    created = _create(api, root)
    events = [i["event"] for i in api.stack.entities("outbox")]
    assert [e["type"] for e in events] == ["tenant.created"]
    assert events[0]["data"]["admin_user_id"] == created["admin_user_id"]


def test_relay_publishes_with_attributes_and_marks_published(api: Api, root: Actor) -> None:
    _create(api, root)
    result = Pipeline(api.stack).relay()
    assert result == {"batchItemFailures": []}
    messages = api.stack.receive("MailQueue")
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["type"] == "tenant.created"
    assert messages[0]["MessageAttributes"]["event_type"]["StringValue"] == "tenant.created"
    outbox = api.stack.entities("outbox")[0]
    assert "published_at" in outbox
    assert "GSI1PK" not in outbox


def test_filter_policy_keeps_other_events_out_of_the_mail_queue(api: Api, root: Actor) -> None:
    created = _create(api, root)
    pipe = Pipeline(api.stack)
    pipe.relay()
    api.stack.receive("MailQueue")  # the tenant.created message, now in flight
    api.patch(f"/tenants/{created['tenant']['tenant_id']}", {"name": "Renamed"}, token=root.token)
    pipe.relay()
    assert api.stack.receive("MailQueue") == []


def test_worker_sends_one_mail_even_when_the_relay_publishes_twice(api: Api, root: Actor) -> None:
    _create(api, root)
    records = Pipeline(api.stack).stream_records()
    pipe = Pipeline(api.stack)
    pipe.relay(records)
    pipe.relay(records)  # the relay crashed after publishing and its batch is retried
    assert len(api.stack.receive("MailQueue", visibility=0)) == 2
    while pipe.mail()[0]:
        pass
    assert len(api.stack.sent_mail()) == 1


def test_failing_worker_leaves_the_message_and_it_ends_in_the_dlq(api: Api, root: Actor) -> None:
    _create(api, root)
    pipe = Pipeline(api.stack)
    pipe.relay()
    ses = api.stack.client("ses")
    ses.delete_identity(Identity="no-reply@keel.example.com")  # every send now fails
    for attempt in range(5):
        handled, result = pipe.work("MailQueue", "functions/workers/mailer/", visibility=0)
        assert handled == 1, f"attempt {attempt}"
        assert len(result["batchItemFailures"]) == 1
    assert api.stack.receive("MailQueue") == []
    dead = api.stack.receive("MailDLQ")
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"])["type"] == "tenant.created"
    assert api.stack.sent_mail() == []


def test_a_failure_in_one_record_does_not_fail_the_batch(api: Api, root: Actor) -> None:
    _create(api, root, "one@co.example.com")
    _create(api, root, "two@co.example.com")
    pipe = Pipeline(api.stack)
    pipe.relay()
    sqs = api.stack.client("sqs")
    sqs.send_message(QueueUrl=api.stack.queues["MailQueue"], MessageBody="not an event")
    handled, result = pipe.work("MailQueue", "functions/workers/mailer/")
    assert handled == 3
    assert len(result["batchItemFailures"]) == 1
    assert sorted(m.destinations["ToAddresses"][0] for m in api.stack.sent_mail()) == [
        "one@co.example.com",
        "two@co.example.com",
    ]


def test_sweep_publishes_what_the_relay_missed(api: Api, root: Actor) -> None:
    clock.freeze()
    _create(api, root)
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, scheduled_event

    sweep = function_module("functions/schedules/outbox_sweep/")
    assert sweep.lambda_handler(scheduled_event("arn:rule"), LambdaContext("sweep")) == {"published": 0}
    clock.advance(minutes=5)
    assert sweep.lambda_handler(scheduled_event("arn:rule"), LambdaContext("sweep")) == {"published": 1}
    assert sweep.lambda_handler(scheduled_event("arn:rule"), LambdaContext("sweep")) == {"published": 0}
    assert len(api.stack.receive("MailQueue")) == 1


@responses.activate
def test_no_network_is_used_by_the_pipeline(api: Api, root: Actor, no_outside_network: list[str]) -> None:
    _create(api, root)
    Pipeline(api.stack).run()
    assert api.stack.sent_mail(), "the pipeline ran to the mailer"
    assert no_outside_network == []
    assert len(responses.calls) == 0


def test_the_network_guard_refuses_boto3_and_raw_connections(no_outside_network: list[str]) -> None:
    """The guard sits under boto3/urllib3, not beside `requests`: an outside attempt is refused."""
    import socket

    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from tests.support.network import OutsideConnection

    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://198.51.100.7:9000",  # TEST-NET-2: never reachable, never mocked
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    with pytest.raises(EndpointConnectionError):
        s3.list_buckets()
    assert set(no_outside_network) == {"198.51.100.7:9000"}
    with socket.socket() as sock, pytest.raises(OutsideConnection):
        sock.connect(("203.0.113.9", 443))
    assert no_outside_network[-1] == "203.0.113.9:443"
    no_outside_network.clear()  # refused as expected: the autouse check must not fail this test
