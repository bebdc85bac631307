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


def _bulk_to_all(api: Api, people: int, channel: str) -> tuple[Any, list[User], Pipeline]:
    """A tenant with `people` users and a bulk send to all on `channel`, fanned out (one batch)."""
    boss = tenant_admin(api, super_admin(api))
    seeded = _seed_users(boss.tenant_id, people)
    drain(api)
    sent = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": [channel], "subject": "S", "body": "B"},
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    pipeline = Pipeline(api.stack)
    pipeline.relay()
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass
    return boss, seeded, pipeline


def test_a_batch_worker_dying_mid_batch_notifies_each_recipient_once(api: Api) -> None:
    """40 recipients (and the admin) in one message. The worker writes the markers and claimed
    notifications (one transaction), reserves the quota (one), then the outcomes in packs of 33
    (inbox entry, unread count, final status); it dies as it writes the second pack. After the
    queue's visibility timeout (past the claims' leases) the message comes back: nobody is written
    again, the first pack's recipients are not delivered again, the others are delivered. Every
    inbox holds the message once and counts it once."""
    from datetime import timedelta

    from keel.core import aws
    from keel.notifications import repo as notifications

    boss, people, pipeline = _bulk_to_all(api, 40, "in_app")
    writes: list[str] = []

    def die_at_second_pack(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            writes.append(model.name)
            if len(writes) == 4:  # markers + notifications, quota, first pack of outcomes, second
                raise Killed

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", die_at_second_pack)
    try:
        with pytest.raises(Killed):
            pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/", visibility=0)
    finally:
        client.meta.events.unregister("before-call.dynamodb", die_at_second_pack)
    store = notifications.for_tenant(boss.tenant_id)
    everyone = [boss.user_id, *(u.user_id for u in people)]
    inboxes = {u: store.inbox(u, 10, None, False)[0] for u in everyone}
    assert sorted(len(entries) for entries in inboxes.values()) == [0] * 8 + [1] * 33  # died mid-way

    from tests.support.calls import dynamodb_calls

    clock.freeze(clock.now() + timedelta(seconds=361))  # the queue's visibility timeout: 360 s
    try:
        with dynamodb_calls() as calls:
            assert pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/")[0] == 1
        drain(api, pipeline)
        history, cursor = [], None
        while True:
            page = api.get(
                "/notifications/history",
                token=boss.token,
                query={"limit": 100, **({"cursor": cursor} if cursor else {})},
            ).json
            history += page["items"]
            if not (cursor := page.get("next_cursor")):
                break
    finally:
        clock.unfreeze()
    # the retry reads the markers and the notifications once each, then claims only the 8 left
    assert calls.count("UpdateItem") == 8, calls
    assert calls.count("BatchGetItem") == 3, calls  # markers, notifications, the round's reads
    assert sorted(h["user_id"] for h in history) == sorted(everyone)  # one notification each
    assert {h["status"] for h in history} == {"delivered"}
    for who in everyone:
        entries, _ = store.inbox(who, 10, None, False)
        assert [e["notification_id"] for e in entries] == [
            h["notification_id"] for h in history if h["user_id"] == who
        ]
        assert store.unread(who) == 1  # counted once


def test_the_batch_worker_reads_and_writes_a_batch_together(api: Api) -> None:
    """In-app, 5 recipients and the admin: the send, the markers and claimed notifications (one
    transaction), users + preferences + tenant + channel settings (one BatchGetItem), the quota
    (one reservation), the outcomes (one transaction), and the markers read first: 6 calls for the
    message, whatever its size up to 33 recipients. Pinned: the worker's throughput is its calls."""
    from keel.notifications import repo as notify
    from tests.support.calls import dynamodb_calls

    boss, people, pipeline = _bulk_to_all(api, 5, "in_app")
    with dynamodb_calls() as calls:
        assert pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/")[0] == 1
    assert calls == [
        "GetItem",  # the send
        "BatchGetItem",  # markers already written (none: a first delivery)
        "TransactWriteItems",  # markers + notifications, claimed
        "BatchGetItem",  # users, preferences, tenant, channel settings
        "TransactWriteItems",  # the quota, reserved for the batch
        "TransactWriteItems",  # inbox entries + unread counts + hops and final statuses
    ]
    store = notify.for_tenant(boss.tenant_id)
    assert all(store.unread(p.user_id) == 1 for p in people)
    delivered = [
        n
        for n in store.history(50, None, status=None, channel=None, user_id=None)[0]
        if n.get("source", "").startswith("bulk:")
    ]
    assert len(delivered) == 6
    assert {n["status"] for n in delivered} == {"delivered"}
    assert all("lease_until" not in n for n in delivered)
    assert store.sent_today("in_app") == 6  # the reservation, all used


def test_the_batch_worker_writes_each_e_mail_s_outcome_before_the_next_send(api: Api) -> None:
    """E-mail, 5 recipients and the admin: the reads and the quota as for in-app, plus one
    BatchGetItem for suppressed addresses; then per recipient, SES and one transaction (the hop
    with its final status and the SES message id's pointer) before the next recipient. A suppressed
    address is skipped and its unused quota given back."""
    from keel.notifications import repo as notify
    from tests.support.calls import dynamodb_calls

    boss, people, pipeline = _bulk_to_all(api, 5, "email")
    store = notify.for_tenant(boss.tenant_id)
    store.suppress(people[0].email, "bounce")
    mails = len(api.stack.sent_mail())
    with dynamodb_calls() as calls:
        assert pipeline.work("NotifyBatchQueue", "functions/workers/notify_batches/")[0] == 1
    assert len(api.stack.sent_mail()) == mails + 5
    assert calls[:6] == [
        "GetItem",
        "BatchGetItem",
        "TransactWriteItems",
        "BatchGetItem",
        "BatchGetItem",
        "TransactWriteItems",
    ]
    # after each send (the suppressed one's with the next), then the unused quota given back
    assert calls[6:] == ["TransactWriteItems"] * 6
    statuses = sorted(
        n["status"]
        for n in store.history(50, None, status=None, channel=None, user_id=None)[0]
        if n.get("source", "").startswith("bulk:")
    )
    assert statuses == ["failed"] + ["sent"] * 5  # the suppressed address: its only channel skipped
    assert store.sent_today("email") == 5  # 6 reserved, 1 given back


@pytest.mark.parametrize(
    ("limits", "reached", "code"),
    [
        ({"daily_limit": 4}, 4, "daily_limit"),
        ({"cost_per_message": 0.25, "daily_cost_limit": 0.5}, 2, "daily_cost_limit"),
    ],
)
def test_a_batch_over_the_channel_s_daily_limit_stops_at_the_limit_with_a_clear_status(
    api: Api, limits: dict[str, Any], reached: int, code: str
) -> None:
    """6 recipients against a limit below 6: the batch's reservation is refused, the sends are then
    counted one at a time; those past the limit get a `skipped` hop naming the limit (and the
    notification `failed`, no channel left), nothing raised, nothing counted beyond the limit."""
    from keel.notifications import repo as notify

    boss = tenant_admin(api, super_admin(api))
    configured = api.call(
        "PUT",
        "/notifications/channels",
        json_body={"channel": "in_app", "enabled": True, **limits},
        token=boss.token,
    )
    assert configured.status == 200, configured.text
    _seed_users(boss.tenant_id, 5)
    drain(api)
    sent = api.post(
        "/notifications/bulk",
        {"audience": {"kind": "all"}, "channels": ["in_app"], "subject": "S", "body": "B"},
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    drain(api)

    store = notify.for_tenant(boss.tenant_id)
    bulk = [
        n
        for n in store.history(50, None, status=None, channel=None, user_id=None)[0]
        if n.get("source", "").startswith("bulk:")
    ]
    assert len(bulk) == 6
    assert sorted(n["status"] for n in bulk) == ["delivered"] * reached + ["failed"] * (6 - reached)
    refused = [n["hops"]["in_app"] for n in bulk if n["status"] == "failed"]
    assert {(h["status"], h["error"]) for h in refused} == {("skipped", code)}
    assert store.sent_today("in_app") == reached


def test_an_inbox_entry_already_there_is_kept_once_and_the_notification_still_ends(api: Api) -> None:
    """Defensive path of the outcome write: if the notification's inbox entry exists already (its
    unit is refused on the entry's condition), the hop and final status are written without it,
    and the entry and its unread count stay as they were."""
    from keel.notifications import repo as notify
    from keel.store.change import Tx

    boss = tenant_admin(api, super_admin(api))
    drain(api)
    sent = api.post(
        "/notifications/send",
        {"user_id": boss.user_id, "channels": ["in_app"], "body": "Hi"},
        token=boss.token,
    )
    assert sent.status == 202, sent.text
    notification_id = sent.json["notification_id"]
    store = notify.for_tenant(boss.tenant_id)
    tx = Tx()
    store.add_inbox(tx, boss.user_id, {"notification_id": notification_id, "body": "Hi", "created_at": "x"})
    tx.commit()
    drain(api)

    delivered = store.notification(notification_id)
    assert delivered["status"] == "delivered"
    assert "lease_until" not in delivered
    entries, _ = store.inbox(boss.user_id, 10, None, False)
    assert [e["notification_id"] for e in entries] == [notification_id]
    assert store.unread(boss.user_id) == 1
