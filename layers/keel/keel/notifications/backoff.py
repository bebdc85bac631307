"""Retry with backoff: a message that failed transiently comes back after 30 s, 60 s, 120 s... (at
most 15 minutes), by changing its visibility before the batch reports it failed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from keel.core import aws
from keel.core.observability import logger

BASE_SECONDS = 30
MAX_SECONDS = 900


def delay(receive_count: int) -> int:
    return min(MAX_SECONDS, BASE_SECONDS * 2 ** max(0, receive_count - 1))


@contextmanager
def on_retry(record: Any) -> Iterator[None]:
    try:
        yield
    except Exception:
        count = int(record.attributes.approximate_receive_count or 1)
        try:
            client = aws.client("sqs")
            url = client.get_queue_url(QueueName=record.event_source_arn.rsplit(":", 1)[1])["QueueUrl"]
            client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay(count)
            )
        except Exception as exc:  # backoff is best effort; the queue's own timeout applies
            logger.warning("backoff not set", extra={"error_type": type(exc).__name__})
        raise
