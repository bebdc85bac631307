"""Webhook rules: endpoints (URL checked by the SSRF guard, secret shown once and sealed), the
event catalogue, the delivery log, redelivery and stats. Every change is one transaction with
its audit record (and its event where other areas care)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from keel.core import clock, ids, netguard
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.store import event_types
from keel.store.change import Change
from keel.webhooks import endpoints, messages, queue, repo, sender, signing
from keel.webhooks.models import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointStats,
    EndpointUpdate,
    ErrorCount,
    EventTypeOut,
    RetryFailed,
    RetryQueued,
    RotateSecret,
    SecretRotated,
    Stats,
    TestResult,
    TestSend,
)

MAX_RANGE = timedelta(days=31)
RETRY_FAILED_MAX = 1000
STATS_MAX_MESSAGES = 20_000
PUBLIC_FIELDS = set(EndpointOut.model_fields)


def _out(item: dict[str, Any]) -> EndpointOut:
    return EndpointOut.model_validate({k: v for k, v in item.items() if k in PUBLIC_FIELDS})


def _checked_url(url: str) -> str:
    try:
        netguard.check(url)
    except netguard.Refused as exc:
        raise invalid("url", str(exc)) from exc
    return url


def _checked_types(patterns: list[str]) -> list[str]:
    unknown = messages.unknown_patterns(patterns)
    if unknown:
        raise invalid("event_types", "Unknown event type(s): " + ", ".join(unknown))
    return sorted(set(patterns))


def _endpoint(scoped: str, endpoint_id: str) -> dict[str, Any]:
    item = repo.for_tenant(scoped).endpoint(endpoint_id)
    if item is None:
        raise not_found(Kind.WEBHOOK_ENDPOINT)
    return item


def list_event_types(principal: Principal) -> Page[EventTypeOut]:
    principal.require(Permission.WEBHOOKS_READ)
    names = set(messages.subscribable())
    return Page[EventTypeOut](
        items=[EventTypeOut.model_validate(e) for e in event_types.catalogue() if e["name"] in names]
    )


def list_endpoints(principal: Principal, tenant_id: str | None) -> Page[EndpointOut]:
    principal.require(Permission.WEBHOOKS_READ)
    scoped = principal.tenant_scope(tenant_id)
    return Page[EndpointOut](items=[_out(i) for i in repo.for_tenant(scoped).endpoints()])


def create_endpoint(principal: Principal, tenant_id: str | None, body: EndpointCreate) -> EndpointCreated:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    types = _checked_types(body.event_types)
    url = _checked_url(body.url)
    secret = signing.new_secret()
    now = clock.iso()
    fields = {
        **body.model_dump(exclude_none=True),
        "endpoint_id": ids.new_id("whep"),
        "url": url,
        "event_types": types,
        "headers": body.headers or {},
        "secret": endpoints.seal(secret),
        "created_at": now,
        "updated_at": now,
    }
    change = Change(principal)
    repo.for_tenant(scoped).add_endpoint(change.tx, fields)
    ref = {"tenant_id": scoped, "endpoint_id": fields["endpoint_id"]}
    change.emit("webhook.endpoint_created", ref, tenant_id=scoped)
    change.audit(
        "webhook.endpoint_create",
        tenant_id=scoped,
        target_type="webhook_endpoint",
        target_id=fields["endpoint_id"],
        details={"url": url, "event_types": types},
    )
    change.commit()
    return EndpointCreated.model_validate({**_out(fields).model_dump(), "secret": secret})


def update_endpoint(
    principal: Principal, tenant_id: str | None, endpoint_id: str, body: EndpointUpdate
) -> EndpointOut:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if "event_types" in changes:
        changes["event_types"] = _checked_types(changes["event_types"] or [])
    if changes.get("url"):
        _checked_url(changes["url"])
    current = _endpoint(scoped, endpoint_id)
    remove: list[str] = []
    for name in ("url", "event_types", "timeout_seconds", "active"):
        if name in changes and changes[name] is None:
            raise invalid(name, f"{name} cannot be null")
    for name in ("description", "rate_limit"):
        if name in changes and changes[name] is None:
            changes.pop(name)
            remove.append(name)
    if "headers" in changes and changes["headers"] is None:
        changes["headers"] = {}
    if changes.get("active") and not current.get("active"):
        remove += ["disabled_reason", "failing_since", "failing_warned_at", "slow_until"]
    changes["updated_at"] = clock.iso()
    change = Change(principal)
    repo.for_tenant(scoped).update_endpoint(change.tx, endpoint_id, changes, tuple(remove))
    change.emit(
        "webhook.endpoint_updated", {"tenant_id": scoped, "endpoint_id": endpoint_id}, tenant_id=scoped
    )
    change.audit(
        "webhook.endpoint_update",
        tenant_id=scoped,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"changed": sorted(set(changes) - {"updated_at"} | set(remove))},
    )
    change.commit()
    endpoints.forget(scoped, endpoint_id)
    return _out({k: v for k, v in {**current, **changes}.items() if k not in remove})


def delete_endpoint(principal: Principal, tenant_id: str | None, endpoint_id: str) -> None:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    change = Change(principal)
    repo.for_tenant(scoped).delete_endpoint(change.tx, endpoint_id)
    change.emit(
        "webhook.endpoint_deleted", {"tenant_id": scoped, "endpoint_id": endpoint_id}, tenant_id=scoped
    )
    change.audit(
        "webhook.endpoint_delete", tenant_id=scoped, target_type="webhook_endpoint", target_id=endpoint_id
    )
    change.commit()
    endpoints.forget(scoped, endpoint_id)


def rotate_secret(
    principal: Principal, tenant_id: str | None, endpoint_id: str, body: RotateSecret
) -> SecretRotated:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    current = _endpoint(scoped, endpoint_id)
    secret = signing.new_secret()
    now = clock.now()
    changes: dict[str, Any] = {"secret": endpoints.seal(secret), "updated_at": clock.iso(now)}
    remove: tuple[str, ...] = ()
    until = None
    if body.grace_hours:
        until = clock.iso(now + timedelta(hours=body.grace_hours))
        changes |= {"previous_secret": current["secret"], "previous_secret_expires_at": until}
    else:
        remove = ("previous_secret", "previous_secret_expires_at")
    change = Change(principal)
    repo.for_tenant(scoped).update_endpoint(change.tx, endpoint_id, changes, remove)
    change.emit(
        "webhook.endpoint_updated", {"tenant_id": scoped, "endpoint_id": endpoint_id}, tenant_id=scoped
    )
    change.audit(
        "webhook.secret_rotate",
        tenant_id=scoped,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"grace_hours": body.grace_hours},
    )
    change.commit()
    endpoints.forget(scoped, endpoint_id)
    return SecretRotated(endpoint_id=endpoint_id, secret=secret, previous_secret_expires_at=until)


def test_endpoint(
    principal: Principal, tenant_id: str | None, endpoint_id: str, body: TestSend
) -> TestResult:
    """Sends a sample message now (signed like any other), records it and answers the result."""
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    event_type = body.event_type or messages.TEST_TYPE
    if body.event_type:
        _checked_types([event_type])
    item = _endpoint(scoped, endpoint_id)
    ep = endpoints.from_item(item)
    now = clock.iso()
    did = messages.delivery_id(ids.new_id("evt"), endpoint_id)
    msg = messages.new_message(
        tenant_id=scoped,
        delivery_id=did,
        endpoint_id=endpoint_id,
        event_id=None,
        event_type=event_type,
        payload=messages.body(event_type, now, {"test": True, "endpoint_id": endpoint_id}),
    )
    headers = {**ep.headers, **signing.headers(list(ep.keys), did, clock.epoch(), msg["body"])}
    outcome = sender.post(ep.url, msg["body"], headers, ep.timeout)
    entry = messages.attempt_entry(1, "test", outcome, now)
    msg |= {
        "status": "succeeded" if outcome.ok else "failed",
        "next_attempt": 2,
        "last_auto": 1,
        "attempt_log": [entry],
        "last_status_code": outcome.status_code or 0,
        "last_error": outcome.error or "",
        "updated_at": now,
    }
    change = Change(principal)
    repo.for_tenant(scoped).add_message_tx(change.tx, msg)
    change.audit(
        "webhook.endpoint_test",
        tenant_id=scoped,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"delivery_id": did, "status_code": outcome.status_code},
    )
    change.commit()
    return TestResult(
        delivery_id=did,
        success=outcome.ok,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
        response_body=outcome.body,
    )


# the delivery log ------------------------------------------------------------------------------


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    end = until or clock.now()
    start = since or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise invalid("since" if start.tzinfo is None else "until", "give a time zone (e.g. Z)")
    if start > end:
        raise invalid("since", "must not be after `until`")
    if end - start > MAX_RANGE:
        raise invalid("until", "at most 31 days after `since`")
    return start, end


def _bounds(start: datetime, end: datetime) -> tuple[str, str]:
    return messages.range_bounds(int(start.timestamp() * 1000), int(end.timestamp() * 1000))


def _delivery_out(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "delivery_id": item["delivery_id"],
        "endpoint_id": item["endpoint_id"],
        "event_id": item.get("event_id"),
        "event_type": item["event_type"],
        "status": item["status"],
        "created_at": item["created_at"],
        "attempts": messages.attempts_made(item),
        "last_status_code": item.get("last_status_code") or None,
        "last_error": item.get("last_error") or None,
        "next_attempt_at": item.get("due_at") if item["status"] in {"pending", "retrying"} else None,
    }


def list_deliveries(
    principal: Principal,
    tenant_id: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    endpoint_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryOut]:
    principal.require(Permission.WEBHOOKS_READ)
    scoped = principal.tenant_scope(tenant_id)
    start, end = _range(since, until)
    page = repo.for_tenant(scoped).messages(
        _bounds(start, end), limit=limit, cursor=cursor, endpoint_id=endpoint_id, status=status
    )
    return Page[DeliveryOut](
        items=[DeliveryOut.model_validate(_delivery_out(i)) for i in page.items], next_cursor=page.next_cursor
    )


def _message(scoped: str, delivery_id: str) -> dict[str, Any]:
    item = repo.for_tenant(scoped).message(delivery_id)
    if item is None:
        raise not_found(Kind.WEBHOOK_DELIVERY)
    return item


def get_delivery(principal: Principal, tenant_id: str | None, delivery_id: str) -> DeliveryDetail:
    principal.require(Permission.WEBHOOKS_READ)
    item = _message(principal.tenant_scope(tenant_id), delivery_id)
    return DeliveryDetail.model_validate(
        {
            **_delivery_out(item),
            "payload": item["body"],
            "attempt_log": [AttemptOut.model_validate(a) for a in messages.kept_attempts(item)],
        }
    )


def _requeue(principal: Principal, scoped: str, items: list[dict[str, Any]], action: str) -> list[str]:
    """Gives each finished message one more attempt now: recorded and audited, then queued."""
    store = repo.for_tenant(scoped)
    now = clock.now()
    now_iso, queued_until = clock.iso(now), clock.iso(now + timedelta(minutes=2))
    done: list[str] = []
    for start in range(0, len(items), 50):
        chunk = items[start : start + 50]
        change = Change(principal)
        for item in chunk:
            store.requeue(change.tx, item["delivery_id"], int(item["next_attempt"]), now_iso, queued_until)
        change.audit(
            action,
            tenant_id=scoped,
            target_type="webhook_delivery",
            target_id=chunk[0]["delivery_id"] if len(chunk) == 1 else None,
            details={"delivery_ids": [i["delivery_id"] for i in chunk]},
        )
        change.commit()
        queue.send(
            [(queue.Job(scoped, i["delivery_id"], int(i["next_attempt"]), queue.MANUAL), 0) for i in chunk],
            queue.FAST,
        )
        done += [i["delivery_id"] for i in chunk]
    return done


def retry_delivery(principal: Principal, tenant_id: str | None, delivery_id: str) -> DeliveryOut:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    item = _message(scoped, delivery_id)
    if item["status"] not in {"succeeded", "failed"}:
        raise KeelError(ErrorCode.SAAS_011, "The message is still being delivered; its next attempt is due")
    ep = repo.for_tenant(scoped).endpoint(item["endpoint_id"])
    if ep is None:
        raise not_found(Kind.WEBHOOK_ENDPOINT)
    if not ep.get("active"):
        raise KeelError(ErrorCode.SAAS_042, "The endpoint is disabled: enable it, then retry")
    _requeue(principal, scoped, [item], "webhook.delivery_retry")
    return DeliveryOut.model_validate(
        {**_delivery_out(item), "status": "pending", "next_attempt_at": clock.iso()}
    )


def retry_failed(principal: Principal, tenant_id: str | None, body: RetryFailed) -> RetryQueued:
    principal.require(Permission.WEBHOOKS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    start, end = _range(body.since, body.until)
    store = repo.for_tenant(scoped)
    active = {e["endpoint_id"] for e in store.endpoints() if e.get("active")}
    if body.endpoint_id and body.endpoint_id not in {e["endpoint_id"] for e in store.endpoints()}:
        raise not_found(Kind.WEBHOOK_ENDPOINT)
    failed = [
        i
        for i in store.every_message(_bounds(start, end))
        if i.get("status") == "failed"
        and i["endpoint_id"] in active
        and (not body.endpoint_id or i["endpoint_id"] == body.endpoint_id)
    ][:RETRY_FAILED_MAX]
    done = _requeue(principal, scoped, failed, "webhook.delivery_retry_failed")
    return RetryQueued(queued=len(done), delivery_ids=done)


# stats ---------------------------------------------------------------------------------------------


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=20, method="inclusive")[18], 1)


def stats(
    principal: Principal,
    tenant_id: str | None,
    *,
    since: datetime | None,
    until: datetime | None,
    endpoint_id: str | None,
) -> Stats:
    principal.require(Permission.WEBHOOKS_READ)
    scoped = principal.tenant_scope(tenant_id)
    start, end = _range(since, until)
    store = repo.for_tenant(scoped)
    urls = {e["endpoint_id"]: e["url"] for e in store.endpoints()}
    if endpoint_id and endpoint_id not in urls:
        raise not_found(Kind.WEBHOOK_ENDPOINT)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for n, item in enumerate(store.every_message(_bounds(start, end))):
        if n >= STATS_MAX_MESSAGES:
            break
        if not endpoint_id or item["endpoint_id"] == endpoint_id:
            per[item["endpoint_id"]].append(item)
    out = []
    for ep_id, items in sorted(per.items()):
        attempts = [a for i in items for a in i.get("attempt_log") or []]
        latencies = [float(a["latency_ms"]) for a in attempts if a.get("status_code") is not None]
        ok = sum(1 for i in items if i["status"] == "succeeded")
        failed = sum(1 for i in items if i["status"] == "failed")
        ok_attempts = sum(1 for a in attempts if a.get("status_code") and 200 <= a["status_code"] < 300)
        errors = Counter(a["error"] for a in attempts if a.get("error"))
        out.append(
            EndpointStats(
                endpoint_id=ep_id,
                url=urls.get(ep_id),
                messages=len(items),
                succeeded=ok,
                failed=failed,
                in_flight=len(items) - ok - failed,
                attempts=len(attempts),
                success_rate=round(ok / (ok + failed), 4) if ok + failed else None,
                attempt_success_rate=round(ok_attempts / len(attempts), 4) if attempts else None,
                mean_latency_ms=round(statistics.fmean(latencies), 1) if latencies else None,
                p95_latency_ms=_p95(latencies),
                retry_rate=round(sum(1 for i in items if messages.attempts_made(i) > 1) / len(items), 4),
                top_errors=[ErrorCount(error=e, count=c) for e, c in errors.most_common(5)],
            )
        )
    return Stats(since=clock.iso(start), until=clock.iso(end), endpoints=out)
