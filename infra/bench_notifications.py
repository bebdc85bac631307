"""Benchmark: a bulk send to 10,000 users (moto in-process, the test suite's stack from template.yaml).

- enqueue: from `send_bulk` (the request's domain call) through the outbox, the relay and the
  notifier's fan-out until every recipient is in `NotifyBatchQueue` (100 per message); once for an
  in-app send. moto's share is reported apart: its TransactWriteItems deep-copies the whole table
  per item (three for the request, one for the relay) and its Query walks the whole table per page
  (the audience: 10 pages of 1,000 ids), both O(table) where DynamoDB is not.
- worker: the batch worker's handler over SAMPLE_BATCHES messages on a small table (each
  recipient: the marker and notification in one transaction, the claim, the inbox transaction),
  messages per second in this one process and DynamoDB calls per message. moto-bound: its
  TransactWriteItems deep-copies the tables, so this is not the worker's own speed.
- render: a compiled template, p50/p99 warm.

    python -m infra.bench_notifications      # prints the figures; `make bench` includes them
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

USERS = int(os.environ.get("BENCH_NOTIFY_USERS", "10000"))
SAMPLE_BATCHES = int(os.environ.get("BENCH_NOTIFY_BATCHES", "3"))
ROLES = ("pharmacist", "cashier", "technician", "manager")


def _seed(tenant_id: str, users: int) -> None:
    from keel.core import clock
    from keel.store import keys, table
    from keel.tenants import repo as tenants
    from keel.tenants.models import Limits, Tenant
    from keel.users import repo
    from keel.users.models import User, UserStatus

    now = clock.iso()
    table.put(
        tenants.item(
            Tenant(
                tenant_id=tenant_id,
                name="Bench",
                plan="x",
                limits=Limits(max_users=100_000),
                user_count=users,
                created_at=now,
                updated_at=now,
            )
        )
    )
    items: list[dict[str, Any]] = []
    for n in range(users):
        user = User(
            user_id=f"usr_{n:026d}",
            tenant_id=tenant_id,
            email=f"user{n}@bench.example.com",
            name=f"User {n}",
            role=ROLES[n % len(ROLES)],
            status=UserStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        items.append(repo.user_item(user))
        items.append(
            {
                "PK": keys.email_pk(user.email),
                "SK": keys.EMAIL_SK,
                "entity": "email",
                "tenant_id": tenant_id,
                "user_id": user.user_id,
            }
        )
    client = table.client()
    for i in range(0, len(items), 25):
        request: Any = {
            table.table_name(): [{"PutRequest": {"Item": table.serialize(it)}} for it in items[i : i + 25]]
        }
        while request:
            request = dict(client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {})


def _waiting(stack: Any, queue: str) -> int:
    attrs = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.queues[queue], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def _bulk(stack: Any, tenant_id: str, channel: str, sample: int, users: int) -> dict[str, Any]:
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, sqs_event
    from keel.core.permissions import Permission
    from keel.core.principal import Principal
    from keel.notifications import sending
    from keel.notifications.models import BulkSendRequest
    from keel.store import table
    from tests.support.pipeline import Pipeline

    boss = Principal(
        tenant_id=tenant_id,
        user_id="usr_bench_admin",
        role="admin",
        permissions=frozenset(str(p) for p in Permission),
    )
    body = BulkSendRequest.model_validate(
        {"audience": {"kind": "all"}, "channels": [channel], "subject": "Stock take", "body": "Friday at 8"}
    )
    pipeline = Pipeline(stack)
    pipeline.stream_records()  # the seed's records (no events in them): not this send's work
    spent: dict[str, float] = {}
    mark: dict[str, float] = {}

    def before(model: Any, **_: Any) -> None:
        mark[model.name] = time.perf_counter()

    def after(model: Any, **_: Any) -> None:
        spent[model.name] = spent.get(model.name, 0.0) + time.perf_counter() - mark[model.name]

    events = table.client().meta.events
    events.register("before-call.dynamodb", before)
    events.register("after-call.dynamodb", after)
    started = time.perf_counter()
    sending.send_bulk(boss, None, body)
    pipeline.relay()
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass
    enqueued = time.perf_counter() - started
    events.unregister("before-call.dynamodb", before)
    events.unregister("after-call.dynamodb", after)
    batches = _waiting(stack, "NotifyBatchQueue")

    worker = function_module("functions/workers/notify_batches/")
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    table.client().meta.events.register("before-call.dynamodb.*", count)
    done, worked = 0, 0.0
    sqs = stack.client("sqs")
    for _ in range(sample):
        messages = stack.receive("NotifyBatchQueue")[:1]
        if not messages:
            break
        t = time.perf_counter()
        result = worker.lambda_handler(
            sqs_event(messages, stack.queue_arns["NotifyBatchQueue"]),
            LambdaContext("notify-batches", timeout_seconds=60),
        )
        worked += time.perf_counter() - t
        assert not result["batchItemFailures"], result
        done += len(json.loads(messages[0]["Body"])["user_ids"])
        sqs.delete_message(
            QueueUrl=stack.queues["NotifyBatchQueue"], ReceiptHandle=messages[0]["ReceiptHandle"]
        )
    table.client().meta.events.unregister("before-call.dynamodb.*", count)
    while rest := stack.receive("NotifyBatchQueue"):  # the others are not delivered here
        for m in rest:
            sqs.delete_message(QueueUrl=stack.queues["NotifyBatchQueue"], ReceiptHandle=m["ReceiptHandle"])
    moto_tx, moto_query = spent.get("TransactWriteItems", 0.0), spent.get("Query", 0.0)
    return {
        "enqueued_seconds": round(enqueued, 2),
        # moto's own costs, not DynamoDB's: each TransactWriteItems deep-copies the whole table
        # once per item it holds (20,000 users' items here), each Query page walks the whole table
        "moto_transact_write_seconds": round(moto_tx, 2),
        "moto_query_seconds": round(moto_query, 2),
        "enqueued_seconds_without_moto_table_walks": round(enqueued - moto_tx - moto_query, 2),
        "batch_messages": batches,
        "all_enqueued": batches == -(-users // 100),  # False: the fan-out did not finish
        "worker_messages": done,
        "worker_messages_per_second": round(done / worked, 1) if worked else None,
        "dynamodb_calls_per_message": round(len(calls) / done, 1) if done else None,
    }


def _render() -> dict[str, Any]:
    from keel.notifications import render

    context = {"user": {"firstName": "Ann"}, "event": {"to_role": "pharmacist"}, "tenant": {}, "data": {}}
    body = "Hi {{ user.firstName }}, you are now {{ event.to_role }}."
    for _ in range(200):
        render.render(body, context)
    timings = []
    for _ in range(5000):
        t = time.perf_counter()
        render.render(body, context)
        timings.append((time.perf_counter() - t) * 1e6)
    timings.sort()
    return {
        "p50_us": round(statistics.median(timings), 1),
        "p99_us": round(timings[int(len(timings) * 0.99)], 1),
    }


def run() -> dict[str, Any]:
    import importlib
    import logging

    from infra.apps import ensure_paths

    ensure_paths()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(k, "testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.disable(logging.INFO)
    moto_stack = importlib.import_module("tests.support.stack").moto_stack
    out: dict[str, Any] = {"recipients": USERS}
    with moto_stack() as stack:
        _seed("ten_bench_notify", USERS)
        out["enqueue_in_app"] = _bulk(stack, "ten_bench_notify", "in_app", 0, USERS)
    # the worker on a small table: moto's TransactWriteItems deep-copies every table, so its cost
    # grows with the table; these figures are moto-bound (DynamoDB calls per message say the rest)
    with moto_stack() as stack:
        _seed("ten_bench_notify", SAMPLE_BATCHES * 100)
        out["worker_in_app"] = _bulk(
            stack, "ten_bench_notify", "in_app", SAMPLE_BATCHES, SAMPLE_BATCHES * 100
        )
    out["render"] = _render()
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
