"""Fan-out: a domain event -> one message per active endpoint subscribed to its type.

Each message is a conditional put keyed on (event, endpoint), so a redelivered event creates
nothing twice; a message that exists but was never tried is queued again (its attempt number
makes a second run of the same attempt a no-op). Every new message is also in the due index, so
the retry sweep queues it if the queue send is lost.
"""

from __future__ import annotations

from keel.core import clock
from keel.store.outbox import DomainEvent
from keel.webhooks import messages, queue, repo


def fan_out(event: DomainEvent) -> int:
    """Creates and queues the event's messages; returns how many were queued."""
    if event.type.startswith("webhook."):
        return 0
    store = repo.for_tenant(event.tenant_id)
    targets = [
        e
        for e in store.endpoints()
        if e.get("active") and messages.matches(e.get("event_types", []), event.type)
    ]
    if not targets:
        return 0
    payload = messages.body(event.type, event.occurred_at, event.data)
    now = clock.now()
    jobs: dict[str, list[tuple[queue.Job, int]]] = {queue.FAST: [], queue.SLOW: []}
    for ep in targets:
        did = messages.delivery_id(event.id, ep["endpoint_id"])
        fields = messages.new_message(
            tenant_id=event.tenant_id,
            delivery_id=did,
            endpoint_id=ep["endpoint_id"],
            event_id=event.id,
            event_type=event.type,
            payload=payload,
        )
        fields |= repo.due_fields(
            event.tenant_id, did, clock.iso(now), clock.iso(now + messages.REQUEUE_GRACE)
        )
        if not store.add_message(fields):
            existing = store.message(did)
            if not existing or existing.get("status") != "pending" or existing.get("next_attempt") != 1:
                continue
        lane = queue.SLOW if (ep.get("slow_until") or "") > clock.iso(now) else queue.FAST
        jobs[lane].append((queue.Job(event.tenant_id, did, 1), 0))
    for lane, lane_jobs in jobs.items():
        queue.send(lane_jobs, lane)
    return sum(len(j) for j in jobs.values())
