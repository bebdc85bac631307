"""moto with the template's resources: the table, the topic, queues, DLQs, subscriptions, secret.

The resources are built from template.yaml by the local stack's builder
(`infra.local.emulation.create_stack`: the SAM expansion, moto's CloudFormation, the rest through
the APIs), so the tests, `make dev` and the template cannot drift. The template is parsed and
expanded once per process; functions are imported and invoked in-process with real event shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from infra.local.template import load_template, sam_transform

ROOT = Path(__file__).resolve().parents[2]
MAIL_FROM = "no-reply@keel.example.com"
STACK_NAME = "keel-test"
API_URL = "https://api.keel.test"
PARAMETERS = {"Stage": "dev", "PublicBaseUrl": "https://app.keel.test", "MailFrom": MAIL_FROM}


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


@lru_cache(maxsize=1)
def translated() -> dict[str, Any]:
    """The SAM expansion of the template, once per process."""
    return sam_transform(template(), PARAMETERS)


@contextmanager
def moto_stack() -> Iterator[Stack]:
    """moto with every resource of template.yaml, built as the local stack builds it."""
    import os

    from infra.local import transactions
    from infra.local.emulation import create_stack
    from keel.core import aws, clock
    from keel.core.config import settings

    transactions.install()
    with mock_aws():
        built = create_stack(template(), STACK_NAME, PARAMETERS, API_URL, translated=translated())
        stack = Stack(table_name=built.ref("Table"), topic_arn=built.ref("EventTopic"))
        for logical_id, kind in built.types.items():
            if kind == "AWS::SQS::Queue":
                stack.queues[logical_id] = built.ref(logical_id)
                stack.queue_arns[logical_id] = built.resolver.attrs[logical_id]["Arn"]
        session = boto3.session.Session(region_name="us-east-1")
        session.client("ses").verify_email_identity(EmailAddress=MAIL_FROM)
        env = {
            "TABLE_NAME": stack.table_name,
            "EVENT_TOPIC_ARN": stack.topic_arn,
            "MAIL_FROM": MAIL_FROM,
            "APP_SECRET_ARN": built.ref("AppSecret"),  # its signing key generated as CloudFormation would
            "PUBLIC_BASE_URL": PARAMETERS["PublicBaseUrl"],
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
