"""The one clock. Code asks `clock.now()`; tests move it with `clock.freeze()` / `clock.advance()`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def epoch() -> int:
    return int(now().timestamp())


def iso(moment: datetime | None = None) -> str:
    return (moment or now()).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def freeze(moment: datetime | None = None) -> None:
    global _frozen  # noqa: PLW0603 - the clock is process state by design
    _frozen = moment or datetime.now(UTC)


def advance(**delta: float) -> None:
    global _frozen  # noqa: PLW0603
    _frozen = now() + timedelta(**delta)


def unfreeze() -> None:
    global _frozen  # noqa: PLW0603
    _frozen = None
