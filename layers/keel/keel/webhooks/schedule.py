"""When to try again: Svix's schedule, with jitter, and what a failed answer means.

Attempt 1 is immediate; after a failure the next comes 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
later (8 tries over about 27.5 hours). Each wait gets up to ±10 % jitter so that a burst of
failures does not come back as a burst. `Retry-After` on 429/502/503/504 pushes the wait to at
least what the receiver asked (at most a day). After the last try the message is `failed`, kept
and replayable.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)  # after attempts 1..7
MAX_ATTEMPTS = len(DELAYS) + 1
JITTER = 0.1
MAX_RETRY_AFTER = 24 * 3600
THROTTLED = frozenset({429, 502, 503, 504})
FAILING_WARN_SECONDS = 4 * 24 * 3600  # the admins are warned a day before
FAILING_DISABLE_SECONDS = 5 * 24 * 3600  # an endpoint failing every attempt this long is disabled

_rng = random.Random()  # noqa: S311 - jitter, not a secret


def base_delay(attempt: int) -> int | None:
    """The wait after attempt `attempt` failed (None: that was the last)."""
    return DELAYS[attempt - 1] if 1 <= attempt <= len(DELAYS) else None


def delay(attempt: int, retry_after: float | None = None) -> float | None:
    base = base_delay(attempt)
    if base is None:
        return None
    wait = base * (1 + _rng.uniform(-JITTER, JITTER))
    if retry_after is not None:
        wait = max(wait, min(float(retry_after), MAX_RETRY_AFTER))
    return wait


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
