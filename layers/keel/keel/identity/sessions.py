"""Sessions: opaque 256-bit bearer tokens stored as their SHA-256, idle and absolute expiry.

Authenticating a request is one GetItem of the session item, which carries everything the
request needs (tenant, user, role). What changes a user's standing (suspension, password, 2FA,
role) updates or deletes their session items, so the very next request sees it. Built-in role
permissions come from code; a custom role costs one more read, never a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keel.core import clock, ids
from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal, RequestMeta
from keel.identity import repo
from keel.identity.tokens import digest
from keel.roles.resolve import permissions_for
from keel.store.change import Tx

TOKEN_PREFIX = "kls_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot, not a secret
LAST_SEEN_GRANULARITY = 60  # write last activity at most once a minute


@dataclass(frozen=True)
class NewSession:
    token: str
    session_id: str
    expires_at: int  # absolute end
    idle_expires_at: int


def session_item(
    *,
    token: str,
    session_id: str,
    tenant_id: str,
    user_id: str,
    role: str,
    meta: RequestMeta,
    absolute_seconds: int,
    idle_seconds: int,
    created_at: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = clock.epoch()
    created = created_at or now
    absolute = created + absolute_seconds
    fields = {
        "role": role,
        "created_at": created,
        "last_seen": now,
        "idle_seconds": idle_seconds,
        "absolute_expires": absolute,
        "expires_at": absolute,
        "ip": meta.ip,
        "user_agent": meta.user_agent,
        "country": meta.country,
    }
    return {**repo.session_item(digest(token), tenant_id, user_id, session_id, fields), **(extra or {})}


def start(
    tx: Tx,
    *,
    tenant_id: str,
    user_id: str,
    role: str,
    meta: RequestMeta,
    absolute_seconds: int | None = None,
    idle_seconds: int | None = None,
    created_at: int | None = None,
    extra: dict[str, Any] | None = None,
    session_id: str | None = None,
) -> NewSession:
    """Adds a new session to `tx`; the caller commits it with the rest of the change."""
    s = settings()
    token = TOKEN_PREFIX + ids.token(32)
    item = session_item(
        token=token,
        session_id=session_id or ids.new_id("ses"),
        tenant_id=tenant_id,
        user_id=user_id,
        role=role,
        meta=meta,
        absolute_seconds=absolute_seconds or s.session_absolute_seconds,
        idle_seconds=idle_seconds or s.session_idle_seconds,
        created_at=created_at,
        extra=extra,
    )
    repo.add_session(tx, item)
    return NewSession(
        token=token,
        session_id=item["session_id"],
        expires_at=item["absolute_expires"],
        idle_expires_at=item["last_seen"] + item["idle_seconds"],
    )


def _live(item: dict[str, Any] | None) -> dict[str, Any]:
    now = clock.epoch()
    if not item or item.get("ended_at"):
        raise KeelError(ErrorCode.AUTH_004, "Session expired or invalid")
    if now >= int(item["absolute_expires"]) or now >= int(item["last_seen"]) + int(item["idle_seconds"]):
        raise KeelError(ErrorCode.AUTH_004, "Session expired")
    return item


def load(token: str) -> dict[str, Any]:
    """The live session item of a token, or AUTH_004."""
    return _live(repo.session(digest(token)))


def authenticate(token: str, meta: RequestMeta) -> Principal:
    item = load(token)
    _touch(item)
    return principal_of(item, meta)


SETUP_SCOPE = "2fa_setup"  # a session that may only set up 2FA (the tenant requires it)


def principal_of(item: dict[str, Any], meta: RequestMeta) -> Principal:
    actor = item.get("actor_id")
    restricted = item.get("scope") == SETUP_SCOPE
    return Principal(
        tenant_id=item["tenant_id"],
        user_id=item["user_id"],
        role=item["role"],
        permissions=frozenset({"profile:self"})
        if restricted
        else permissions_for(item["tenant_id"], item["role"]),
        kind="impersonation" if actor else "session",
        session_id=item["session_id"],
        actor_id=actor,
        meta=meta,
    )


def _touch(item: dict[str, Any]) -> None:
    now = clock.epoch()
    if now - int(item["last_seen"]) < LAST_SEEN_GRANULARITY:
        return
    repo.touch_session(item, now)


def is_live(item: dict[str, Any]) -> bool:
    try:
        _live(item)
    except KeelError:
        return False
    return True


def end(tx: Tx, item: dict[str, Any]) -> None:
    repo.end_session(tx, item)


def for_user(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    return repo.for_tenant(tenant_id).sessions_of(user_id)


def end_all_for_user(tx: Tx, tenant_id: str, user_id: str, *, keep: str | None = None) -> int:
    """Adds the deletion of every session of the user to `tx` (but `keep`, a session id); returns how many."""
    found = [s for s in for_user(tenant_id, user_id) if s["session_id"] != keep]
    for item in found:
        end(tx, item)
    return len(found)
