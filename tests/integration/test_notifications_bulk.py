"""Bulk sends at size: the fan-out of a large tenant (its audience read lean, page after page) puts
every active recipient in exactly one batch message, and a batch worker that dies mid-batch leaves
no recipient notified twice or skipped.

The first test is the regression for the 10,000-user bench reporting no batch at all: the bulk
request's outbox record sat behind more than 1,000 stream records (GetRecords' page), and the
pipeline read one page only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.core import clock
from keel.store import table
from keel.users import repo as users
from keel.users.models import User, UserStatus
from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.notify import drain
from tests.support.pipeline import Pipeline

ROLES = ("pharmacist", "cashier")


def _seed_users(tenant_id: str, count: int, *, suspended_every: int = 0) -> list[User]:
    """`count` users written straight to the table (no invitation round trip), in batches of 25."""
    now = clock.iso()
    people = [
        User(
            user_id=f"usr_bulk{n:022d}",
            tenant_id=tenant_id,
            email=f"bulk{n}@acme.example.com",
            name=f"Bulk {n}",
            role=ROLES[n % len(ROLES)],
            status=UserStatus.SUSPENDED
            if suspended_every and n % suspended_every == 0
            else UserStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    ]
    items = [users.user_item(u) for u in people]
    client = table.client()
    for i in range(0, len(items), 25):
        request: Any = {
            table.table_name(): [{"PutRequest": {"Item": table.serialize(it)}} for it in items[i : i + 25]]
        }
        while request:
            request = dict(client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {})
    return people


def _batches(api: Api) -> list[dict[str, Any]]:
    sqs = api.stack.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := api.stack.receive("NotifyBatchQueue"):
        for m in messages:
            found.append(json.loads(m["Body"]))
            sqs.delete_message(
                QueueUrl=api.stack.queues["NotifyBatchQueue"], ReceiptHandle=m["ReceiptHandle"]
            )
    return found


def test_bulk_send_behind_a_thousand_stream_records_puts_each_active_user_in_one_batch(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    people = _seed_users(boss.tenant_id, 1150, suspended_every=7)  # 1,150 stream records ahead
    sent = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": ["in_app"], "subject": "Stock take", "body": "Friday"},
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    pipeline = Pipeline(api.stack)
    records = pipeline.stream_records()
    assert len(records) > 1000  # one GetRecords page would have stopped before the bulk request
    pipeline.relay(records)
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass

    batches = _batches(api)
    ids = [u for b in batches for u in b["user_ids"]]
    active = {u.user_id for u in people if u.status == UserStatus.ACTIVE} | {boss.user_id}
    assert len(ids) == len(set(ids))  # nobody twice
    assert set(ids) == active  # every active user, no suspended one
    assert len(batches) == -(-len(active) // 100)
    assert all(len(b["user_ids"]) <= 100 for b in batches)
    assert {b["send_id"] for b in batches} == {sent.json["send_id"]}


def test_bulk_send_to_a_role_reads_the_audience_lean(api: Api) -> None:
    from tests.support.calls import dynamodb_calls

    boss = tenant_admin(api, super_admin(api))
    people = _seed_users(boss.tenant_id, 250)
    drain(api)
    sent = api.post(
        "/notifications/bulk",
        {
            "audience": {"kind": "role", "roles": ["cashier"]},
            "channels": ["in_app"],
            "subject": "S",
            "body": "B",
        },
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    pipeline = Pipeline(api.stack)
    pipeline.relay()
    with dynamodb_calls() as calls:
        while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
            pass
    assert calls.count("Query") == 1  # one page holds 250 users' ids (1,000 a page)
    ids = [u for b in _batches(api) for u in b["user_ids"]]
    assert sorted(ids) == sorted(u.user_id for u in people if u.role == "cashier")


class Killed(BaseException):
    """The Lambda's process dying (timeout, out of memory): nothing of ours catches it."""


def test_a_batch_worker_dying_mid_batch_notifies_each_recipient_once(api: Api) -> None:
    """The worker dies as the third recipient's inbox entry is written (its notification written
    and claimed, not delivered): the message comes back after the queue's visibility timeout (past
    the claim's lease); the first two are neither written nor delivered again, the third is
    delivered, the last two are written and delivered. Each inbox holds the message once."""
    from datetime import timedelta

    from keel.core import aws

    boss = tenant_admin(api, super_admin(api))
    people = _seed_users(boss.tenant_id, 5)
    drain(api)
    sent = api.post(
        "/notifications/bulk",
        {
            "audience": {"kind": "role", "roles": list(ROLES)},
            "channels": ["in_app"],
            "subject": "S",
            "body": "B",
        },
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    pipeline = Pipeline(api.stack)
    pipeline.relay()
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass

    writes: list[str] = []

    def die_at_third_inbox(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            writes.append(model.name)
            if len(writes) == 6:  # per recipient: marker + notification, then the inbox entry
                raise Killed

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", die_at_third_inbox)
    try:
        with pytest.raises(Killed):
            pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/", visibility=0)
    finally:
        client.meta.events.unregister("before-call.dynamodb", die_at_third_inbox)
    clock.freeze(clock.now() + timedelta(seconds=361))  # the queue's visibility timeout: 360 s
    try:
        drain(api, pipeline)
        history = api.get("/notifications/history", token=boss.token, query={"limit": 50}).json["items"]
    finally:
        clock.unfreeze()
    assert sorted(h["user_id"] for h in history) == sorted(u.user_id for u in people)
    assert {h["status"] for h in history} == {"delivered"}
    from keel.notifications import repo as notifications

    for who in people:
        store = notifications.for_tenant(boss.tenant_id)
        entries, _ = store.inbox(who.user_id, 10, None, False)
        assert [e["notification_id"] for e in entries] == [
            h["notification_id"] for h in history if h["user_id"] == who.user_id
        ]
        assert store.unread(who.user_id) == 1  # counted once


def test_the_batch_worker_makes_six_dynamodb_calls_per_in_app_recipient(api: Api) -> None:
    """Per recipient: the marker and notification (one transaction), the claim, one BatchGetItem
    (user, preferences, tenant, channel settings), the quota, the inbox entry, the hop with the
    final status (one write); per message: the send. Pinned: the worker's throughput is its calls."""
    from keel.notifications import repo as notify
    from tests.support.calls import dynamodb_calls

    boss = tenant_admin(api, super_admin(api))
    people = _seed_users(boss.tenant_id, 5)
    drain(api)
    sent = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": ["in_app"], "subject": "S", "body": "B"},
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    pipeline = Pipeline(api.stack)
    pipeline.relay()
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass
    with dynamodb_calls() as calls:
        assert pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/")[0] == 1
    recipients = calls.count("BatchGetItem")
    assert recipients >= len(people)
    assert calls.count("GetItem") == 1  # the send
    assert len(calls) == 1 + 6 * recipients, calls
    assert calls[1:7] == [
        "TransactWriteItems",  # marker + notification
        "UpdateItem",  # claim
        "BatchGetItem",  # user, preferences, tenant, channel settings
        "TransactWriteItems",  # quota
        "TransactWriteItems",  # inbox entry + unread
        "UpdateItem",  # hop + final status, claim released
    ]
    store = notify.for_tenant(boss.tenant_id)
    assert all(store.unread(p.user_id) == 1 for p in people)
    delivered = [
        n
        for n in store.history(50, None, status=None, channel=None, user_id=None)[0]
        if n.get("source", "").startswith("bulk:")
    ]
    assert delivered
    assert {n["status"] for n in delivered} == {"delivered"}
    assert all("lease_until" not in n for n in delivered)
