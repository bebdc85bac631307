"""The retry schedule (every minute): queues messages whose next attempt is due and that no
queue holds (a retry beyond SQS's 15-minute delay, or a job whose send was lost)."""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.webhooks import messages, queue, repo

BATCH = 500


def queue_due(limit: int = 5000) -> int:
    queued = 0
    while queued < limit:
        now = clock.now()
        now_iso = clock.iso(now)
        due = repo.due_messages(now_iso, BATCH)
        jobs = [
            (queue.Job(item["tenant_id"], item["delivery_id"], int(item["next_attempt"]), _trigger(item)), 0)
            for item in due
            if (item.get("queued_until") or "") < now_iso
            and repo.claim_due(item, now_iso, clock.iso(now + messages.REQUEUE_GRACE))
        ]
        queue.send(jobs, queue.FAST)
        queued += len(jobs)
        if len(due) < BATCH or not jobs:
            return queued
    return queued


def _trigger(item: dict[str, Any]) -> str:
    """`manual` for an operator's retry whose job was lost, else `auto`."""
    return queue.MANUAL if item.get("next_trigger") == queue.MANUAL else queue.AUTO
