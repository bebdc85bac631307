"""Listing and ending sessions: everyone their own; holders of sessions:manage the tenant's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.model import Model
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.identity import repo as identity
from keel.identity import sessions
from keel.store.change import Change

MAX_BULK = 90  # one transaction per bulk call, with its audit records


class SessionInfo(Model):
    session_id: str
    user_id: str
    created_at: str
    last_activity_at: str
    expires_at: int
    idle_expires_at: int
    ip: str | None = None
    country: str | None = None
    device: str
    user_agent: str | None = None
    current: bool = False
    impersonated_by: str | None = None
    suspicious: list[str] = []


class TerminateIn(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class TerminateManyIn(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)
    session_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BULK)
    user_id: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    tenant_id: str | None = Field(default=None, max_length=64, description="Super admins only")

    @model_validator(mode="after")
    def _some_filter(self) -> TerminateManyIn:
        if not (self.session_ids or self.user_id or self.ip or self.country):
            raise ValueError("name session_ids or at least one filter (user_id, ip, country)")
        return self


class TerminatedOut(Model):
    terminated: int
    session_ids: list[str]


def device(user_agent: str | None) -> str:
    """A readable device from the User-Agent (browser on OS), good enough for a session list."""
    ua = user_agent or ""
    os_name = next(
        (
            n
            for p, n in (
                (r"iPhone|iPad", "iOS"),
                (r"Android", "Android"),
                (r"Windows", "Windows"),
                (r"Mac OS X|Macintosh", "macOS"),
                (r"Linux", "Linux"),
            )
            if re.search(p, ua)
        ),
        None,
    )
    browser = next(
        (
            n
            for p, n in (
                (r"Edg/", "Edge"),
                (r"OPR/|Opera", "Opera"),
                (r"Chrome/", "Chrome"),
                (r"Firefox/", "Firefox"),
                (r"Safari/", "Safari"),
                (r"curl/", "curl"),
                (r"python-requests|python", "Python client"),
            )
            if re.search(p, ua)
        ),
        None,
    )
    if browser and os_name:
        return f"{browser} on {os_name}"
    return browser or os_name or (ua[:40] if ua else "unknown")


def _iso(epoch: int) -> str:
    return clock.iso(datetime.fromtimestamp(epoch, UTC))


def info(item: dict[str, Any], current: str | None) -> SessionInfo:
    return SessionInfo(
        session_id=item["session_id"],
        user_id=item["user_id"],
        created_at=_iso(int(item["created_at"])),
        last_activity_at=_iso(int(item["last_seen"])),
        expires_at=int(item["absolute_expires"]),
        idle_expires_at=int(item["last_seen"]) + int(item["idle_seconds"]),
        ip=item.get("ip"),
        country=item.get("country"),
        device=device(item.get("user_agent")),
        user_agent=item.get("user_agent"),
        current=item["session_id"] == current,
        impersonated_by=item.get("actor_id"),
        suspicious=list(item.get("flags") or []),
    )


def list_sessions(
    principal: Principal, *, tenant_id: str | None, user_id: str | None, limit: int, cursor: str | None
) -> Page[SessionInfo]:
    principal.require(Permission.PROFILE)
    scoped = principal.tenant_scope(tenant_id)
    admin = principal.can(Permission.SESSIONS_MANAGE)
    if not admin:
        if user_id not in (None, principal.user_id):
            raise KeelError(ErrorCode.SAAS_001, f"Missing permission {Permission.SESSIONS_MANAGE}")
        user_id = principal.user_id
    found, next_cursor = identity.for_tenant(scoped).sessions_page(user_id, limit, cursor)
    items = [info(i, principal.session_id) for i in found if sessions.is_live(i)]
    return Page[SessionInfo](items=items, next_cursor=next_cursor)


def _find(tenant_id: str, session_id: str) -> dict[str, Any]:
    item = identity.for_tenant(tenant_id).session_by_id(session_id)
    if item is None or not sessions.is_live(item):
        raise not_found(Kind.SESSION)
    return item


def terminate(principal: Principal, session_id: str, reason: str, tenant_id: str | None) -> TerminatedOut:
    principal.require(Permission.PROFILE)
    scoped = principal.tenant_scope(tenant_id)
    item = _find(scoped, session_id)
    if item["user_id"] != principal.user_id and not principal.can(Permission.SESSIONS_MANAGE):
        raise KeelError(ErrorCode.SAAS_001, f"Missing permission {Permission.SESSIONS_MANAGE}")
    change = Change(principal)
    sessions.end(change.tx, item)
    change.audit(
        "session.terminate",
        event_type="session_terminated",
        tenant_id=scoped,
        target_type="session",
        target_id=session_id,
        details={"reason": reason, "user_id": item["user_id"]},
    )
    change.commit()
    return TerminatedOut(terminated=1, session_ids=[session_id])


def terminate_many(principal: Principal, body: TerminateManyIn) -> TerminatedOut:
    principal.require(Permission.SESSIONS_MANAGE)
    scoped = principal.tenant_scope(body.tenant_id)
    if body.user_id:
        found = sessions.for_user(scoped, body.user_id)
    else:
        found = identity.for_tenant(scoped).tenant_sessions()
    wanted = set(body.session_ids or [])
    chosen = [
        s
        for s in found
        if sessions.is_live(s)
        and s["session_id"] != principal.session_id
        and (not wanted or s["session_id"] in wanted)
        and (body.ip is None or s.get("ip") == body.ip)
        and (body.country is None or s.get("country") == body.country.upper())
    ]
    if wanted and not chosen:
        raise not_found(Kind.SESSION)
    if len(chosen) > MAX_BULK:
        raise invalid("session_ids", f"At most {MAX_BULK} sessions at once; narrow the filter")
    change = Change(principal)
    for s in chosen:
        sessions.end(change.tx, s)
    ids_ = [s["session_id"] for s in chosen]
    change.audit(
        "session.terminate_many",
        event_type="session_terminated",
        tenant_id=scoped,
        target_type="tenant",
        target_id=scoped,
        details={"reason": body.reason, "session_ids": ids_, "count": len(ids_)},
    )
    change.commit()
    return TerminatedOut(terminated=len(ids_), session_ids=ids_)
