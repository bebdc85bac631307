"""A message: one event for one endpoint, its body fixed once (so every retry signs the same bytes)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from keel.core import clock, ids
from keel.store import event_types
from keel.webhooks.schedule import MAX_ATTEMPTS

RETENTION = timedelta(days=30)  # the delivery log keeps messages (and their attempts) this long
REQUEUE_GRACE = timedelta(minutes=5)  # a queued job not run by then is re-queued by the sweep
TEST_TYPE = "webhook.test"
# A message keeps its last 20 attempts (the 8 automatic ones and manual retries), each at most about
# 6 KB (2 KB of answer, which decoding can triple), so with its body it stays far below DynamoDB's
# 400 KB whatever the retries: attempt n is stored in slot (n - 1) % 20, a ring; the count is kept.
ATTEMPTS_KEPT = 20


def subscribable() -> list[str]:
    """Event types an endpoint can subscribe to: those of a tenant (platform events such as `flag.*`
    carry no tenant), except the webhooks area's own, which are not sent out."""
    return sorted(
        name
        for name, declared in event_types.REGISTRY.items()
        if "tenant_id" in declared.payload.model_fields and not name.startswith("webhook.")
    )


def matches(patterns: list[str], event_type: str) -> bool:
    return any(
        p in {"*", event_type} or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


def unknown_patterns(patterns: list[str]) -> list[str]:
    known = subscribable()
    return [p for p in patterns if not any(matches([p], name) for name in known)]


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """`msg_<event ULID>_<endpoint ULID>`: one per (event, endpoint), ordered by the event's time."""
    return f"msg_{event_id.split('_', 1)[-1]}_{endpoint_id.split('_', 1)[-1]}"


def range_bounds(since_ms: int, until_ms: int) -> tuple[str, str]:
    return f"msg_{ids.ulid_bound(since_ms, upper=False)}", f"msg_{ids.ulid_bound(until_ms, upper=True)}~"


def body(event_type: str, occurred_at: str, data: dict[str, Any]) -> str:
    """Standard Webhooks payload: `{type, timestamp, data}`."""
    return json.dumps({"type": event_type, "timestamp": occurred_at, "data": data}, separators=(",", ":"))


def new_message(
    *, tenant_id: str, delivery_id: str, endpoint_id: str, event_id: str | None, event_type: str, payload: str
) -> dict[str, Any]:
    now = clock.now()
    return {
        "delivery_id": delivery_id,
        "tenant_id": tenant_id,
        "endpoint_id": endpoint_id,
        "event_id": event_id,
        "event_type": event_type,
        "body": payload,
        "status": "pending",
        "next_attempt": 1,
        "last_auto": MAX_ATTEMPTS,
        "created_at": clock.iso(now),
        "expires_at": int((now + RETENTION).timestamp()),
    }


def attempt_entry(attempt: int, trigger: str, outcome: Any, at: str) -> dict[str, Any]:
    return {
        "attempt": attempt,
        "at": at,
        "trigger": trigger,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
        "response_body": outcome.body,
    }


def attempts_made(item: dict[str, Any]) -> int:
    """How many attempts a message has had (its log keeps the last `ATTEMPTS_KEPT`)."""
    return max(0, int(item.get("next_attempt") or 1) - 1)


def kept_attempts(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The attempts on the item, oldest first (the log is a ring once it is full)."""
    return sorted(item.get("attempt_log") or [], key=lambda a: int(a["attempt"]))
