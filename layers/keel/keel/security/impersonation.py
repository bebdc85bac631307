"""Impersonation: a support person acts as a user, with a reason, for at most 4 hours.

The impersonation session is an ordinary session item whose `actor_id` names the real person;
every request made with it is audited with both (see keel.http.auth), and it ends by itself at
its absolute expiry. The record (`IMPERSONATION#<id>` in the target's tenant) keeps the history.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.model import Model
from keel.core.pagination import Page
from keel.core.permissions import SUPER_ADMIN, Permission
from keel.core.principal import Principal
from keel.identity import sessions
from keel.roles.resolve import permissions_for
from keel.security import repo as security
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import UserStatus

MAX_MINUTES = 240


class StartIn(Model):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=5, max_length=500, description="Required; kept in the audit log")
    duration_minutes: int = Field(default=60, ge=1, le=MAX_MINUTES, description="At most 4 hours")
    tenant_id: str | None = Field(default=None, max_length=64, description="Super admins: the user's tenant")


class Impersonation(Model):
    impersonation_id: str
    tenant_id: str
    actor_id: str
    actor_tenant_id: str
    user_id: str
    reason: str
    started_at: str
    expires_at: int
    ended_at: str | None = None
    ended_by: str | None = None
    status: Literal["active", "ended", "expired"]


class Started(Impersonation):
    token: str = Field(description="Bearer token of the impersonation session")


class EndIn(Model):
    model_config = ConfigDict(extra="forbid")
    tenant_id: str | None = Field(default=None, max_length=64)


def _status(item: dict[str, Any]) -> str:
    if item.get("ended_at"):
        return "ended"
    return "active" if int(item["ends_at"]) > clock.epoch() else "expired"


def _out(item: dict[str, Any]) -> Impersonation:
    return Impersonation(
        impersonation_id=item["impersonation_id"],
        tenant_id=item["tenant_id"],
        actor_id=item["actor_id"],
        actor_tenant_id=item["actor_tenant_id"],
        user_id=item["user_id"],
        reason=item["reason"],
        started_at=item["started_at"],
        expires_at=int(item["ends_at"]),
        ended_at=item.get("ended_at"),
        ended_by=item.get("ended_by"),
        status=_status(item),
    )


def _refuse(message: str) -> KeelError:
    return KeelError(ErrorCode.SAAS_005, message)


def start(principal: Principal, body: StartIn) -> Started:
    principal.require(Permission.IMPERSONATE)
    if principal.kind != "session":
        raise _refuse("Impersonation can only start from your own session")
    scoped = principal.tenant_scope(body.tenant_id)
    target = users.for_tenant(scoped).get(body.user_id, consistent=True)
    if target is None or target.status is UserStatus.DELETED:
        raise not_found(Kind.USER)
    if target.user_id == principal.user_id:
        raise invalid("user_id", "You cannot impersonate yourself")
    if target.role == SUPER_ADMIN:
        raise _refuse("Super admins cannot be impersonated")
    if target.status is not UserStatus.ACTIVE:
        raise KeelError(ErrorCode.SAAS_011, "Only active users can be impersonated")
    rules = security.get(scoped).impersonation
    if body.duration_minutes > rules.max_minutes:
        raise invalid("duration_minutes", f"At most {rules.max_minutes} minutes in this organisation")
    if not rules.allows(principal.role, target.role):
        raise _refuse(f"Your role may not impersonate a {target.role}")
    if not principal.is_super_admin and not permissions_for(scoped, target.role) <= principal.permissions:
        raise _refuse("Impersonation may not grant permissions you do not hold")
    impersonation_id = ids.new_id("imp")
    seconds = body.duration_minutes * 60
    change = Change(principal)
    new = sessions.start(
        change.tx,
        tenant_id=scoped,
        user_id=target.user_id,
        role=target.role,
        meta=principal.meta,
        absolute_seconds=seconds,
        idle_seconds=seconds,
        extra={
            "actor_id": principal.user_id,
            "actor_tenant_id": principal.tenant_id,
            "impersonation_id": impersonation_id,
        },
    )
    item = {
        "impersonation_id": impersonation_id,
        "tenant_id": scoped,
        "actor_id": principal.user_id,
        "actor_tenant_id": principal.tenant_id,
        "user_id": target.user_id,
        "reason": body.reason,
        "started_at": clock.iso(),
        "ends_at": new.expires_at,
        "session_id": new.session_id,
    }
    item = security.for_tenant(scoped).add_impersonation(change.tx, item)
    details = {"impersonation_id": impersonation_id, "reason": body.reason, "minutes": body.duration_minutes}
    change.audit(
        "impersonation.start",
        event_type="impersonation",
        tenant_id=scoped,
        target_type="user",
        target_id=target.user_id,
        severity="warning",
        details=details,
    )
    if scoped != principal.tenant_id:
        change.audit(
            "impersonation.start",
            event_type="impersonation",
            target_type="user",
            target_id=target.user_id,
            severity="warning",
            details={**details, "tenant_id": scoped},
        )
    change.commit()
    return Started(**_out(item).model_dump(), token=new.token)


def _record(tenant_id: str, impersonation_id: str) -> dict[str, Any]:
    item = security.for_tenant(tenant_id).impersonation(impersonation_id)
    if not item:
        raise not_found(Kind.IMPERSONATION)
    return item


def end(principal: Principal, impersonation_id: str, tenant_id: str | None) -> Impersonation:
    principal.require(Permission.PROFILE)
    scoped = principal.tenant_scope(tenant_id)
    item = _record(scoped, impersonation_id)
    if principal.actor != item["actor_id"] and not (
        principal.can(Permission.IMPERSONATE) and principal.kind == "session"
    ):
        raise KeelError(ErrorCode.SAAS_001, "Only the impersonator or an administrator can end it")
    if _status(item) != "active":
        raise KeelError(ErrorCode.SAAS_011, "This impersonation has already ended")
    change = Change(principal)
    now = clock.iso()
    security.for_tenant(scoped).end_impersonation(
        change.tx,
        impersonation_id,
        now,
        principal.actor,
        on_fail=KeelError(ErrorCode.SAAS_011, "This impersonation has already ended"),
    )
    for s in sessions.for_user(scoped, item["user_id"]):
        if s.get("impersonation_id") == impersonation_id:
            sessions.end(change.tx, s)
    change.audit(
        "impersonation.end",
        event_type="impersonation",
        tenant_id=scoped,
        target_type="user",
        target_id=item["user_id"],
        details={"impersonation_id": impersonation_id, "actor_id": item["actor_id"]},
    )
    change.commit()
    item.update(ended_at=now, ended_by=principal.actor)
    return _out(item)


def list_all(
    principal: Principal, *, tenant_id: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[Impersonation]:
    principal.require(Permission.IMPERSONATE)
    scoped = principal.tenant_scope(tenant_id)
    found, next_cursor = security.for_tenant(scoped).impersonations_page(limit, cursor)
    items = [_out(i) for i in found]
    if status:
        items = [i for i in items if i.status == status]
    return Page[Impersonation](items=items, next_cursor=next_cursor)
