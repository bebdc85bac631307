"""The delivery worker's work: a batch of jobs -> signed HTTP attempts -> recorded outcomes.

Per batch: one BatchGetItem for the messages (and one for endpoints not cached), the attempts in
a thread pool (at most `PER_ENDPOINT` at a time for one endpoint, so a slow endpoint holds a few
threads, not the pool), one TransactWriteItems per 100 records (each conditional on its attempt
number: a duplicate job is recorded once), one SendMessageBatch per 10 short retries.
A job whose endpoint timed out lately goes to the slow lane instead of being tried here.
An endpoint with a `rate_limit` (messages per second) costs one more write per batch: the sends
for all of the batch's jobs to it are taken at once from a counter per endpoint and second that
every instance of both lanes shares (`repo.take_sends`); the jobs left without one go back to the
queue with a 1 s delay, untried. An endpoint without a limit costs nothing more.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.store.change import Change
from keel.webhooks import endpoints, messages, queue, repo, schedule, sender, signing
from keel.webhooks.endpoints import Endpoint

POOL_SIZE = 48
PER_ENDPOINT = 8
SLOW_FOR = timedelta(minutes=10)

_pool: ThreadPoolExecutor | None = None
_gates: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="webhook")
        return _pool


def _gate(key: tuple[str, str]) -> threading.BoundedSemaphore:
    with _lock:
        if key not in _gates:
            _gates[key] = threading.BoundedSemaphore(PER_ENDPOINT)
        return _gates[key]


def attempt(ep: Endpoint, message: dict[str, Any]) -> sender.Outcome:
    """One signed send (the timestamp is now; the id and body never change)."""
    payload = message["body"]
    headers = {**ep.headers, **signing.headers(list(ep.keys), message["delivery_id"], clock.epoch(), payload)}
    with _gate((ep.tenant_id, ep.endpoint_id)):
        return sender.post(ep.url, payload, headers, ep.timeout)


@dataclass
class Report:
    sent: int = 0
    succeeded: int = 0
    recorded: int = 0
    skipped: int = 0
    forwarded: int = 0
    slow_endpoints: set[tuple[str, str]] = field(default_factory=set)


def run(jobs: list[queue.Job], lane: str = queue.FAST) -> Report:
    """Each attempt is recorded with its job's trigger (`auto`, or `manual` for an operator's retry)."""
    report = Report()
    found = repo.get_many([repo.message_key(j.tenant_id, j.delivery_id) for j in jobs])
    live = _live(jobs, found, report)
    eps = endpoints.load({(j.tenant_id, m["endpoint_id"]) for j, m in live})
    now = clock.now()
    now_iso = clock.iso(now)
    forward: list[tuple[queue.Job, int]] = []
    later: list[tuple[queue.Job, int]] = []
    todo: list[tuple[queue.Job, dict[str, Any], Endpoint]] = []
    ops: list[dict[str, Any]] = []
    for job, msg in live:
        ep = eps.get((job.tenant_id, msg["endpoint_id"]))
        if ep is None or not ep.active:
            reason = "endpoint deleted" if ep is None else "endpoint disabled"
            outcome = sender.Outcome(None, 0.0, reason, "")
            ops.append(_record(job, msg, outcome, now_iso, final=True))
            continue
        if lane == queue.FAST and ep.slow_until and ep.slow_until > now_iso:
            forward.append((job, 0))
            continue
        todo.append((job, msg, ep))
    todo = _within_rate(todo, later)
    outcomes = list(pool().map(lambda t: attempt(t[2], t[1]), todo)) if todo else []
    retries: dict[str, list[tuple[queue.Job, int]]] = defaultdict(list)
    per_endpoint: dict[tuple[str, str], list[tuple[sender.Outcome, Endpoint]]] = defaultdict(list)
    for (job, msg, ep), outcome in zip(todo, outcomes, strict=True):
        report.sent += 1
        report.succeeded += outcome.ok
        per_endpoint[(job.tenant_id, ep.endpoint_id)].append((outcome, ep))
        final = outcome.ok or outcome.status_code == 410 or job.attempt >= int(msg.get("last_auto", 0))
        wait = None
        if not final:
            retry_after = (
                schedule.retry_after_seconds(outcome.retry_after, now)
                if outcome.status_code in schedule.THROTTLED
                else None
            )
            wait = schedule.delay(job.attempt, retry_after)
            final = wait is None
        ops.append(_record(job, msg, outcome, now_iso, final=final, wait=wait))
        if wait is not None and wait <= queue.MAX_DELAY:
            lane_for = queue.SLOW if outcome.timed_out or (ep.slow_until or "") > now_iso else queue.FAST
            retries[lane_for].append((queue.Job(job.tenant_id, job.delivery_id, job.attempt + 1), int(wait)))
    report.recorded = repo.apply_updates(ops)
    queue.send(forward, queue.SLOW)
    queue.send(later, lane)
    for lane_name, jobs_ in retries.items():
        queue.send(jobs_, lane_name)
    report.forwarded = len(forward)
    for key, results in per_endpoint.items():
        _endpoint_health(key, results, now, report)
    return report


def _within_rate(
    todo: list[tuple[queue.Job, dict[str, Any], Endpoint]], later: list[tuple[queue.Job, int]]
) -> list[tuple[queue.Job, dict[str, Any], Endpoint]]:
    """The jobs that got a send within their endpoint's rate limit this second (one write per
    limited endpoint); the others are put back in `later` with a 1 s delay."""
    wants: dict[tuple[str, str], int] = defaultdict(int)
    for job, _, ep in todo:
        if ep.rate_limit:
            wants[(job.tenant_id, ep.endpoint_id)] += 1
    if not wants:
        return todo
    second = clock.epoch()
    limits = {(job.tenant_id, ep.endpoint_id): int(ep.rate_limit or 0) for job, _, ep in todo}
    left = {key: repo.take_sends(*key, second, want, limits[key]) for key, want in wants.items()}
    within: list[tuple[queue.Job, dict[str, Any], Endpoint]] = []
    for job, msg, ep in todo:
        key = (job.tenant_id, ep.endpoint_id)
        if key not in left:
            within.append((job, msg, ep))
        elif left[key] > 0:
            left[key] -= 1
            within.append((job, msg, ep))
        else:
            later.append((job, 1))
    return within


def _live(
    jobs: list[queue.Job], found: dict[Any, dict[str, Any]], report: Report
) -> list[tuple[queue.Job, dict[str, Any]]]:
    """The jobs to try, with their messages: not a duplicate (SNS and SQS deliver at least once, so
    the same job can come twice, even in one batch, whose records must not touch an item twice),
    not a message already past this attempt."""
    live: list[tuple[queue.Job, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for job in jobs:
        msg = found.get(repo.message_key(job.tenant_id, job.delivery_id))
        if (
            (job.tenant_id, job.delivery_id) in seen
            or msg is None
            or msg.get("status") in {"succeeded", "failed"}
            or msg.get("next_attempt") != job.attempt
        ):
            report.skipped += 1
            continue
        seen.add((job.tenant_id, job.delivery_id))
        live.append((job, msg))
    return live


def _record(
    job: queue.Job,
    msg: dict[str, Any],
    outcome: sender.Outcome,
    now_iso: str,
    *,
    final: bool,
    wait: float | None = None,
) -> dict[str, Any]:
    entry = messages.attempt_entry(job.attempt, job.trigger, outcome, now_iso)
    status = "succeeded" if outcome.ok else ("failed" if final else "retrying")
    due_at = queued_until = None
    if not final and wait is not None:
        due = clock.parse(now_iso) + timedelta(seconds=wait)
        due_at = clock.iso(due)
        if wait <= queue.MAX_DELAY:
            queued_until = clock.iso(due + messages.REQUEUE_GRACE)
    return repo.outcome_update(
        job.tenant_id,
        msg["delivery_id"],
        job.attempt,
        status=status,
        entry=entry,
        next_attempt=job.attempt + 1,
        now=now_iso,
        due_at=due_at,
        queued_until=queued_until,
    )


def _endpoint_health(
    key: tuple[str, str], results: list[tuple[sender.Outcome, Endpoint]], now: Any, report: Report
) -> None:
    """Success ends a failing streak; a first failure starts one (admins told); 4 days: warned;
    5 days: disabled (admins told); 410: disabled at once; a timeout: slow lane for a while."""
    tenant_id, endpoint_id = key
    ep = results[0][1]
    store = repo.for_tenant(tenant_id)
    now_iso = clock.iso(now)
    if any(o.timed_out for o, _ in results):
        store.set_slow(endpoint_id, clock.iso(now + SLOW_FOR))
        endpoints.remember(ep, slow_until=clock.iso(now + SLOW_FOR))
        report.slow_endpoints.add(key)
    if any(o.status_code == 410 for o, _ in results):
        _disable(tenant_id, endpoint_id, "gone", now_iso)
        return
    if any(o.ok for o, _ in results):
        if ep.failing_since:
            store.recovered(endpoint_id, ep.failing_since)
            endpoints.forget(tenant_id, endpoint_id)
        return
    system = Principal.system(tenant_id, "webhooks")
    ref = {"tenant_id": tenant_id, "endpoint_id": endpoint_id}
    since = ep.failing_since
    try:
        if since is None:
            change = Change(system)
            store.mark_failing(change.tx, endpoint_id, now_iso)
            disable_at = clock.iso(now + timedelta(seconds=schedule.FAILING_DISABLE_SECONDS))
            change.emit(
                "webhook.endpoint_failing", {**ref, "failing_since": now_iso, "disable_at": disable_at}
            )
            change.audit(
                "webhook.endpoint_failing",
                tenant_id=tenant_id,
                target_type="webhook_endpoint",
                target_id=endpoint_id,
            )
            change.commit()
            endpoints.remember(ep, failing_since=now_iso)
            return
        failing_for = (now - clock.parse(since)).total_seconds()
        if failing_for >= schedule.FAILING_DISABLE_SECONDS:
            _disable(tenant_id, endpoint_id, "failing", now_iso)
        elif failing_for >= schedule.FAILING_WARN_SECONDS and not ep.failing_warned_at:
            change = Change(system)
            store.mark_warned(change.tx, endpoint_id, since, now_iso)
            disable_at = clock.iso(clock.parse(since) + timedelta(seconds=schedule.FAILING_DISABLE_SECONDS))
            change.emit(
                "webhook.endpoint_disabling", {**ref, "failing_since": since, "disable_at": disable_at}
            )
            change.audit(
                "webhook.endpoint_disabling",
                tenant_id=tenant_id,
                target_type="webhook_endpoint",
                target_id=endpoint_id,
            )
            change.commit()
            endpoints.remember(ep, failing_warned_at=now_iso)
    except KeelError:  # another worker recorded it first: read it again
        endpoints.forget(tenant_id, endpoint_id)


def _disable(tenant_id: str, endpoint_id: str, reason: str, now_iso: str) -> None:
    change = Change(Principal.system(tenant_id, "webhooks"))
    repo.for_tenant(tenant_id).disable(change.tx, endpoint_id, reason, now_iso)
    change.emit(
        "webhook.endpoint_disabled", {"tenant_id": tenant_id, "endpoint_id": endpoint_id, "reason": reason}
    )
    change.audit(
        "webhook.endpoint_disable",
        tenant_id=tenant_id,
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"reason": reason},
    )
    try:
        change.commit()
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": reason})
    except KeelError:
        pass  # already disabled
    endpoints.forget(tenant_id, endpoint_id)
