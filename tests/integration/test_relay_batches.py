"""The relay publishes with SNS PublishBatch (10 a call) and reports exactly the records SNS refused."""

from __future__ import annotations

import json
from typing import Any

from keel.core import aws
from keel.store import keys, outbox, table
from tests.support.pipeline import Pipeline
from tests.support.stack import Stack

TOO_LONG = 262_144  # SNS refuses a message over 256 KiB


def _outbox_records(stack: Stack, sizes: list[int]) -> tuple[Pipeline, list[dict[str, Any]], list[str]]:
    """Outbox items written to the table (one per size of padding); their stream records, in order."""
    pipe = Pipeline(stack)
    ids = []
    for n, size in enumerate(sizes):
        event = outbox.new_event("tenant.created", f"ten_{n:02d}", {"n": n, "pad": "x" * size})
        table.put(outbox.outbox_item(event))
        ids.append(event.id)
    records = [r for r in pipe.stream_records() if r["eventName"] == "INSERT"]
    assert len(records) == len(sizes)
    return pipe, records, ids


def _drain(stack: Stack, queue: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while batch := stack.receive(queue):
        got += batch
        sqs = stack.client("sqs")
        for m in batch:
            sqs.delete_message(QueueUrl=stack.queues[queue], ReceiptHandle=m["ReceiptHandle"])
    return got


def _count_calls() -> list[str]:
    calls: list[str] = []
    for service in ("sns", "dynamodb"):
        aws.client(service).meta.events.register(
            "before-call.*.*", lambda model, **_: calls.append(model.name), unique_id="count-calls"
        )
    return calls


def test_a_batch_of_25_is_published_in_3_calls_and_marked_in_one(stack: Stack) -> None:
    pipe, records, ids = _outbox_records(stack, [10] * 25)
    calls = _count_calls()
    assert pipe.relay(records) == {"batchItemFailures": []}
    assert calls == ["PublishBatch"] * 3 + ["TransactWriteItems"]  # 25 marked in one transaction
    delivered = _drain(stack, "MailQueue")
    assert sorted(json.loads(m["Body"])["id"] for m in delivered) == sorted(ids)
    assert {m["MessageAttributes"]["event_type"]["StringValue"] for m in delivered} == {"tenant.created"}
    items = {i["event"]["id"]: i for i in stack.entities("outbox")}
    assert all("published_at" in items[i] and "GSI1PK" not in items[i] for i in ids)


def test_a_refused_entry_is_reported_alone_and_stays_pending(stack: Stack) -> None:
    sizes = [10] * 13
    sizes[11] = TOO_LONG  # the 12th record, in the second PublishBatch call
    pipe, records, ids = _outbox_records(stack, sizes)
    result = pipe.relay(records)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[11]["dynamodb"]["SequenceNumber"]}]}
    delivered = {json.loads(m["Body"])["id"] for m in _drain(stack, "MailQueue")}
    assert delivered == set(ids) - {ids[11]}
    items = {i["event"]["id"]: i for i in stack.entities("outbox")}
    assert "published_at" not in items[ids[11]]
    assert items[ids[11]]["GSI1PK"]  # still pending: the retry and the sweep find it
    assert all("published_at" in items[i] for i in ids if i != ids[11])


def test_an_item_gone_before_marking_does_not_leave_the_others_pending(stack: Stack) -> None:
    pipe, records, ids = _outbox_records(stack, [10] * 12)
    table.delete(keys.outbox_pk(ids[3]), keys.OUTBOX_SK)  # reaped by its TTL, say
    assert pipe.relay(records) == {"batchItemFailures": []}  # published; nothing left to mark
    items = {i["event"]["id"]: i for i in stack.entities("outbox")}
    assert set(items) == set(ids) - {ids[3]}
    assert all("published_at" in item and "GSI1PK" not in item for item in items.values())
