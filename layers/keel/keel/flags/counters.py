"""Evaluation counts without a write per flag per request.

Each container counts in memory, per minute bucket, flag and variant; `flush_if_due` (called at
the end of an evaluation request) writes them with one UpdateItem (ADD) per minute bucket held,
at most once every `FLAG_METRICS_FLUSH_SECONDS` (30 s by default). Counts are exact except for
what a container holds when it is shut down (at most its last interval) and a flush whose write
fails (logged and dropped rather than retried into the next request).
"""

from __future__ import annotations

import os
import time
from collections import Counter

from keel.core import clock
from keel.core.observability import logger
from keel.flags import repo

_pending: dict[str, Counter[tuple[str, str]]] = {}
_last_flush = {"at": time.monotonic()}


def interval() -> float:
    return float(os.environ.get("FLAG_METRICS_FLUSH_SECONDS", "30"))


def minute_of(iso: str) -> str:
    return iso[:16]  # YYYY-MM-DDTHH:MM


def count(results: list[tuple[str, str | None]]) -> None:
    bucket = _pending.setdefault(minute_of(clock.iso()), Counter())
    for key, variant in results:
        bucket[(key, variant or "none")] += 1


def flush_if_due(*, force: bool = False) -> int:
    """Write what is held when the interval has passed: the number of UpdateItem calls made."""
    now = time.monotonic()
    if not _pending or (not force and now - _last_flush["at"] < interval()):
        return 0
    _last_flush["at"] = now
    held = dict(_pending)
    _pending.clear()
    calls = 0
    for minute, counts in sorted(held.items()):
        try:
            repo.add_counts(minute, dict(counts))
            calls += 1
        except Exception:
            logger.exception("flag metrics flush failed", extra={"minute": minute, "counters": len(counts)})
    return calls
