"""The delivery queues: a job is `{t: tenant, d: delivery id, a: attempt number, r: trigger}`.

The trigger is what caused the attempt, recorded with it: `auto` (the first try and the scheduled
retries) or `manual` (an operator's retry); a job queued before the field existed is `auto`.

Two lanes: `WebhookDeliveryQueue` for every endpoint, `WebhookSlowQueue` for endpoints that
recently timed out (their own worker, so they never hold up the others). SQS delays a job by at
most 15 minutes; a later retry waits in the due index for the retry schedule instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from keel.core import aws
from keel.core.config import settings

FAST = "WebhookDeliveryQueue"
SLOW = "WebhookSlowQueue"
MAX_DELAY = 900
AUTO, MANUAL = "auto", "manual"
TRIGGERS = frozenset({AUTO, MANUAL})


@dataclass(frozen=True)
class Job:
    tenant_id: str
    delivery_id: str
    attempt: int
    trigger: str = AUTO

    def body(self) -> str:
        return json.dumps(
            {"t": self.tenant_id, "d": self.delivery_id, "a": self.attempt, "r": self.trigger},
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, body: str) -> Job:
        data: dict[str, Any] = json.loads(body)
        trigger = data.get("r")
        return cls(str(data["t"]), str(data["d"]), int(data["a"]), trigger if trigger in TRIGGERS else AUTO)


def send(jobs: list[tuple[Job, int]], lane: str = FAST) -> None:
    """Jobs with their delay in seconds (0-900), ten per SendMessageBatch; a refused entry raises."""
    if not jobs:
        return
    url = settings().queues()[lane]
    client = aws.client("sqs")
    for start in range(0, len(jobs), 10):
        chunk = jobs[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": job.body(), "DelaySeconds": max(0, min(MAX_DELAY, int(delay)))}
            for i, (job, delay) in enumerate(chunk)
        ]
        resp = client.send_message_batch(QueueUrl=url, Entries=entries)
        if resp.get("Failed"):
            raise RuntimeError(f"{len(resp['Failed'])} webhook jobs not queued")
