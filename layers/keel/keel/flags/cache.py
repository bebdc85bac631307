"""The compiled flag set, kept in module memory between invocations of a warm function.

Every evaluation starts with `current(tenant_id)`: one strongly consistent BatchGetItem of the
flag set's version item and the caller's tenant item. When the version differs from the one in
memory (a flag changed, or `refresh_flag_cache` bumped it), the flags are read again (one Query)
and compiled; otherwise nothing else is read. There is no background thread: Lambda freezes a
function between invocations, so a poller would go stale silently; a per-request check cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from keel.flags import engine, repo
from keel.tenants.models import Tenant


@dataclass(frozen=True)
class FlagSet:
    version: int
    flags: tuple[engine.Compiled | engine.Broken, ...]
    by_key: dict[str, engine.Compiled | engine.Broken]


_EMPTY = FlagSet(-1, (), {})
_state: dict[str, FlagSet] = {"set": _EMPTY}
reloads = {"count": 0}  # how often this container reloaded (tests, logs)


def compile_set(version: int, raw_flags: list[dict[str, object]]) -> FlagSet:
    flags = tuple(engine.compile_flag(r) for r in sorted(raw_flags, key=lambda r: str(r.get("key"))))
    return FlagSet(version, flags, {f.key: f for f in flags})


def current(tenant_id: str) -> tuple[FlagSet, Tenant | None]:
    version, tenant = repo.version_and_tenant(tenant_id)
    held = _state["set"]
    if held.version != version:
        held = _state["set"] = compile_set(version, repo.all_raw())
        reloads["count"] += 1
    return held, tenant


def forget() -> None:
    """Drop what this container holds (tests; the version check makes it unnecessary otherwise)."""
    _state["set"] = _EMPTY
