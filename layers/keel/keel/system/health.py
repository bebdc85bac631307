"""Health: each dependency probed with one cheap metadata call, with its status and latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from keel.core import aws
from keel.core.config import settings
from keel.core.model import Model


class Check(Model):
    name: str
    kind: Literal["table", "topic", "queue", "secret"]
    status: Literal["ok", "error"]
    latency_ms: float
    detail: str | None = None


class Health(Model):
    status: Literal["ok", "degraded"]
    stage: str
    checks: list[Check]


def _probe(name: str, kind: str, call: Callable[[], object]) -> Check:
    start = time.perf_counter()
    try:
        call()
        status, detail = "ok", None
    except Exception as exc:
        status, detail = "error", type(exc).__name__
    return Check.model_validate(
        {
            "name": name,
            "kind": kind,
            "status": status,
            "latency_ms": round((time.perf_counter() - start) * 1000, 1),
            "detail": detail,
        }
    )


def check() -> Health:
    s = settings()
    probes: list[tuple[str, str, Callable[[], object]]] = [
        ("table", "table", lambda: aws.client("dynamodb").describe_table(TableName=s.table_name)),
    ]
    if s.event_topic_arn:
        probes.append(
            ("events", "topic", lambda: aws.client("sns").get_topic_attributes(TopicArn=s.event_topic_arn))
        )
    for name, url in s.queues().items():
        probes.append(
            (
                name,
                "queue",
                lambda url=url: aws.client("sqs").get_queue_attributes(  # type: ignore[misc]
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                ),
            )
        )
    if s.app_secret_arn:
        probes.append(
            (
                "app-secret",
                "secret",
                lambda: aws.client("secretsmanager").describe_secret(SecretId=s.app_secret_arn),
            )
        )
    with ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool:
        checks = list(pool.map(lambda p: _probe(*p), probes))
    degraded = any(c.status != "ok" for c in checks)
    return Health(status="degraded" if degraded else "ok", stage=s.stage, checks=checks)
