"""moto with the template's resources: the table, the topic, queues, DLQs and subscriptions.

Resources are read from template.yaml (so tests and the template cannot drift); functions are
imported and invoked in-process with real event shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from infra.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
MAIL_FROM = "no-reply@keel.example.com"


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    """Parsed once per process; callers must not change it."""
    return load_template(ROOT / "template.yaml")


@dataclass
class Stack:
    table_name: str
    topic_arn: str
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> url
    queue_arns: dict[str, str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]

    def scan(self) -> list[dict[str, Any]]:
        from keel.store.table import deserialize

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            resp = self.client("dynamodb").scan(**kwargs)
            items += [deserialize(i) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def entities(self, entity: str) -> list[dict[str, Any]]:
        return [i for i in self.scan() if i.get("entity") == entity]

    def sent_mail(self) -> list[Any]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)

    def receive(self, queue: str, wait: int = 0, visibility: int | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queues[queue],
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": wait,
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility is not None:
            kwargs["VisibilityTimeout"] = visibility
        return list(self.client("sqs").receive_message(**kwargs).get("Messages", []))


def _create_table(ddb: Any, name: str, props: dict[str, Any]) -> str:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]},
    }
    ddb.create_table(**args)
    ttl = props["TimeToLiveSpecification"]
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )
    return str(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


@contextmanager
def moto_stack() -> Iterator[Stack]:
    import os

    from keel.core import aws, clock
    from keel.core.config import settings

    with mock_aws():
        resources = template()["Resources"]
        session = boto3.session.Session(region_name="us-east-1")
        ddb: Any = session.client("dynamodb")
        sns: Any = session.client("sns")
        sqs: Any = session.client("sqs")
        table_name = "keel-test"
        _create_table(ddb, table_name, resources["Table"]["Properties"])
        topic_arn = sns.create_topic(Name="keel-test-events")["TopicArn"]
        stack = Stack(table_name=table_name, topic_arn=topic_arn)
        queues = {k: v for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
        for logical in sorted(queues, key=lambda k: "RedrivePolicy" in queues[k]["Properties"]):
            props = queues[logical]["Properties"]
            attrs: dict[str, Any] = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
            redrive = props.get("RedrivePolicy")
            if redrive:
                dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attrs["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": stack.queue_arns[dlq],
                        "maxReceiveCount": redrive["maxReceiveCount"],
                    }
                )
            url = sqs.create_queue(QueueName=f"keel-test-{logical}", Attributes=attrs)["QueueUrl"]
            stack.queues[logical] = url
            stack.queue_arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        for res in resources.values():
            if res["Type"] != "AWS::SNS::Subscription":
                continue
            props = res["Properties"]
            queue = props["Endpoint"]["Fn::GetAtt"][0]
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=stack.queue_arns[queue],
                Attributes={
                    "RawMessageDelivery": str(props.get("RawMessageDelivery", False)).lower(),
                    "FilterPolicyScope": props.get("FilterPolicyScope", "MessageAttributes"),
                    "FilterPolicy": json.dumps(props["FilterPolicy"]),
                },
            )
        session.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
        secret_arn = session.client("secretsmanager").create_secret(
            Name="keel/test/app",
            SecretString=json.dumps({"signing_key": "test-signing-key-0123456789abcdef"}),
        )["ARN"]
        env = {
            "TABLE_NAME": table_name,
            "EVENT_TOPIC_ARN": topic_arn,
            "MAIL_FROM": MAIL_FROM,
            "APP_SECRET_ARN": secret_arn,
            "PUBLIC_BASE_URL": "https://app.keel.test",
            "QUEUE_URLS": ",".join(f"{k}={v}" for k, v in stack.queues.items()),
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        settings.cache_clear()
        aws.reset()
        try:
            yield stack
        finally:
            clock.unfreeze()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            settings.cache_clear()
            aws.reset()
