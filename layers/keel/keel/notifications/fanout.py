"""The workers' side of sending: rules, single deliveries, bulk fan-out, recipient batches, schedules.

Bulk sends reach each recipient exactly once: the fan-out queues the audience in batches of
100 users (SQS); for each user the batch worker writes a marker `(send, user)` and the
notification, already claimed, as one unit (a second marker is refused; the units are packed into
a few transactions, `commit_each`), then delivers the new ones as one round
(`delivery.deliver_all`). A worker that dies mid-batch leaves its message to come back after the
claims' leases: users already marked are not written again, and their notifications not yet
delivered are delivered then.
"""

from __future__ import annotations

import json
from typing import Any

from keel.core import aws, clock
from keel.core.config import settings
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.notifications import audience, delivery, repo, rules
from keel.notifications.models import Status
from keel.store.change import Change, Tx, commit_each
from keel.store.outbox import DomainEvent

BATCH_QUEUE = "NotifyBatchQueue"


def handle_event(event: DomainEvent) -> None:
    """The notifier worker: an event that may trigger rules, a queued notification, a bulk send."""
    if event.type == "notification.queued":
        delivery.deliver(event.data["tenant_id"], event.data["notification_id"])
    elif event.type == "notification.bulk_requested":
        fan_out(event.data["tenant_id"], event.data["send_id"])
    else:
        rules.on_event(event)


def fan_out(sender_tenant: str, send_id: str) -> int:
    send = repo.for_tenant(sender_tenant).send(send_id)
    if send.get("status") != "enqueued":
        logger.info("bulk send not enqueued", extra={"send_id": send_id, "status": send.get("status")})
        return 0
    url = settings().queues()[BATCH_QUEUE]
    sqs = aws.client("sqs")
    entries: list[dict[str, Any]] = []
    users = 0
    for tenant_id, user_ids in audience.chunks(send["audience"], sender_tenant):
        body = {
            "sender_tenant": sender_tenant,
            "send_id": send_id,
            "tenant_id": tenant_id,
            "user_ids": user_ids,
        }
        entries.append({"Id": str(len(entries)), "MessageBody": json.dumps(body)})
        users += len(user_ids)
        if len(entries) == 10:
            _send_batch(sqs, url, entries)
            entries = []
    if entries:
        _send_batch(sqs, url, entries)
    logger.info("bulk send fanned out", extra={"send_id": send_id, "users": users})
    return users


def _send_batch(sqs: Any, url: str, entries: list[dict[str, Any]]) -> None:
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    if resp.get("Failed"):
        raise RuntimeError(f"{len(resp['Failed'])} batch message(s) refused by SQS")  # the event is retried


def handle_batch(message: dict[str, Any]) -> int:
    """One batch of recipients: each notified once (see the module docstring); how many were reached.

    A message seen before (a retry after a transient failure or a crash, or SQS's rare duplicate)
    finds its recipients' markers in one read: only the others are written, and of those written
    before, only the notifications still to deliver (one read) are claimed and delivered."""
    sender, send_id, tenant_id = message["sender_tenant"], message["send_id"], message["tenant_id"]
    send = repo.for_tenant(sender).send(send_id)
    store = repo.for_tenant(tenant_id)
    earlier = store.once_many(send_id, message["user_ids"])
    made: list[dict[str, Any]] = []
    units: list[Tx] = []
    for user_id in message["user_ids"]:
        if user_id in earlier:
            continue
        data = rules.notification(
            tenant_id,
            {"user_id": user_id},
            channels=send["channels"],
            category=send["category"],
            content=send.get("content") or {},
            source=f"bulk:{send_id}",
            extra={"send_id": send_id},
        )
        tx = Tx()
        once = store.once_key(send_id, user_id)
        store.add_notification(tx, data, once=once, claimed_for=delivery.LEASE_SECONDS)
        made.append(data)
        units.append(tx)
    claimed: list[dict[str, Any]] = []
    for data, error in zip(made, commit_each(units), strict=True):
        if error is None:
            claimed.append(data)
            continue
        found = store.once(send_id, data["user_id"]) if isinstance(error, KeelError) else None
        if found is None:
            raise error
        earlier[data["user_id"]] = found  # a copy of this message running at the same time wrote it
    for notification_id in store.unfinished(list(earlier.values())) if earlier else []:
        again = store.claim(notification_id, delivery.LEASE_SECONDS)
        if again is not None:
            claimed.append(again)
    statuses, retry = delivery.deliver_all(tenant_id, claimed)
    if retry is not None:
        raise retry  # the others were delivered; the batch comes back for those still queued
    return sum(s in {Status.SENT, Status.DELIVERED} for s in statuses)


def run_due(now: str | None = None) -> int:
    """The schedule: scheduled sends whose time has come start; deferred notifications are re-queued."""
    started = 0
    for item in repo.due(now or clock.iso()):
        tenant_id = item["tenant_id"] if "tenant_id" in item else str(item["PK"]).split("#", 1)[1]
        change = Change(Principal.system(tenant_id, "notification-schedule"))
        store = repo.for_tenant(tenant_id)
        if item.get("entity") == "notify_send":
            store.close_send(
                change.tx, item["send_id"], "enqueued", "system:notification-schedule", clock.iso()
            )
            change.emit(
                "notification.bulk_requested",
                {"tenant_id": tenant_id, "send_id": item["send_id"]},
                tenant_id=tenant_id,
            )
        else:
            store.requeue(change.tx, item["notification_id"], from_status="deferred")
            change.emit(
                "notification.queued",
                {"tenant_id": tenant_id, "notification_id": item["notification_id"]},
                tenant_id=tenant_id,
            )
        try:
            change.commit()
        except KeelError:
            continue  # cancelled or started meanwhile
        started += 1
    return started
