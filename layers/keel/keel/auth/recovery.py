"""Passwords after login: change, reset by e-mailed link, admin resets, forced resets; activation
links sent again. Every new password goes through `passwords.validate_new` (policy + history);
every change ends the user's other sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from keel.auth.models import Accepted, Done
from keel.auth.passwords import record_change, validate_new
from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.model import Model
from keel.core.permissions import Permission
from keel.core.principal import Principal, RequestMeta
from keel.identity import links, passwords, sessions
from keel.security import lockout
from keel.security import repo as security
from keel.store.change import Change
from keel.store.event_types import UserRef
from keel.users import repo as users
from keel.users.models import User, UserStatus
from keel.users.scope import user_in_scope

RESET_LINK_SECONDS = 3600


class AdminResetIn(Model):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["email", "temporary"] = Field(
        description="email: send a reset link; temporary: set this password, to be changed at next login"
    )
    temporary_password: str | None = Field(default=None, max_length=1024)


class ForceResetIn(Model):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(
        default=None, max_length=64, description="One user; omit for the whole tenant"
    )
    effective_at: datetime | None = Field(
        default=None, description="Tenant-wide: passwords set before this moment must change (default now)"
    )
    tenant_id: str | None = Field(default=None, max_length=64, description="Super admins only")


class ForceResetOut(Model):
    scope: Literal["user", "tenant"]
    effective_at: str
    sessions_ended: int = 0


def not_impersonating(principal: Principal) -> None:
    if principal.kind == "impersonation":
        raise KeelError(ErrorCode.SAAS_005, "Not allowed while impersonating")


def change_password(principal: Principal, current: str, new: str) -> Done:
    principal.require(Permission.PROFILE)
    not_impersonating(principal)
    user = user_in_scope(principal, principal.user_id)
    if not passwords.verify(user.password_hash, current):
        from keel.store import audit

        audit.write(
            audit.for_principal(
                principal,
                action="auth.change_password",
                event_type="password_change_failed",
                target_type="user",
                target_id=user.user_id,
                result="failure",
                severity="warning",
            )
        )
        raise invalid("current_password", "Current password is wrong")
    validate_new(new, tenant_id=user.tenant_id, user_id=user.user_id, field="new_password")
    change = Change(principal)
    return _set_password(
        change, user, new, "auth.change_password", "password_changed", keep=principal.session_id
    )


def _set_password(
    change: Change, user: User, new: str, action: str, event_type: str, keep: str | None = None
) -> Done:
    """The new hash (and history), every other session ended, the event and the audit, committed."""
    record_change(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        old_hash=user.password_hash,
        new_password=new,
    )
    ended = sessions.end_all_for_user(change.tx, user.tenant_id, user.user_id, keep=keep)
    change.emit("auth.password_changed", {"tenant_id": user.tenant_id, "user_id": user.user_id})
    change.audit(
        action,
        event_type=event_type,
        target_type="user",
        target_id=user.user_id,
        details={"sessions_ended": ended},
    )
    change.commit()
    return Done(sessions_ended=ended)


def _link_request(email: str, meta: RequestMeta, wanted: UserStatus) -> tuple[Change, User] | None:
    """The change recording a link request, if the address has an account in the `wanted` state;
    the caller answers the same either way, and the mailer issues the link."""
    user = users.by_email(email)
    if user is None or user.status is not wanted:
        return None
    return Change(Principal.system(user.tenant_id, "auth").with_meta(meta)), user


def _commit_link_request(change: Change, user: User, action: str) -> Accepted:
    event_type = change.events[-1].type.split(".", 1)[1]
    change.audit(action, event_type=event_type, target_type="user", target_id=user.user_id)
    change.commit()
    return Accepted()


def request_reset(email: str, meta: RequestMeta) -> Accepted:
    found = _link_request(email, meta, UserStatus.ACTIVE)
    if found is None:
        return Accepted()
    change, user = found
    change.emit("auth.password_reset_requested", UserRef(tenant_id=user.tenant_id, user_id=user.user_id))
    return _commit_link_request(change, user, "auth.request_password_reset")


def reset(token: str, new: str, meta: RequestMeta) -> Done:
    change = Change(Principal.system())
    link = links.redeem(change.tx, token, links.PASSWORD_RESET)
    user = users.for_tenant(link["tenant_id"]).get(link["user_id"], consistent=True)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    validate_new(new, tenant_id=user.tenant_id, user_id=user.user_id, field="new_password")
    change.principal = Principal(user.tenant_id, user.user_id, user.role, frozenset(), meta=meta)
    lockout.clear(change.tx, user.email)
    return _set_password(change, user, new, "auth.reset_password", "password_reset")


def resend_activation(email: str, meta: RequestMeta) -> Accepted:
    found = _link_request(email, meta, UserStatus.PENDING_ACTIVATION)
    if found is None:
        return Accepted()
    change, user = found
    change.emit("auth.activation_requested", UserRef(tenant_id=user.tenant_id, user_id=user.user_id))
    return _commit_link_request(change, user, "auth.resend_activation")


def admin_reset(principal: Principal, user_id: str, body: AdminResetIn, tenant_id: str | None = None) -> Done:
    principal.require(Permission.SECURITY_MANAGE)
    not_impersonating(principal)
    user = user_in_scope(principal, user_id, tenant_id)
    change = Change(principal)
    ended = 0
    if body.mode == "temporary":
        if not body.temporary_password:
            raise invalid("temporary_password", "Required when mode is temporary")
        validate_new(
            body.temporary_password,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            field="temporary_password",
        )
        record_change(
            change.tx,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            old_hash=user.password_hash,
            new_password=body.temporary_password,
            must_change=True,
        )
        ended = sessions.end_all_for_user(change.tx, user.tenant_id, user.user_id)
    else:
        if user.status is not UserStatus.ACTIVE:
            raise KeelError(ErrorCode.SAAS_011, "Only active users can reset their password by e-mail")
        change.emit("auth.password_reset_requested", {"tenant_id": user.tenant_id, "user_id": user.user_id})
    change.audit(
        "security.admin_reset_password",
        event_type="password_reset_by_admin",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.user_id,
        details={"mode": body.mode, "sessions_ended": ended},
    )
    change.commit()
    return Done(sessions_ended=ended)


def force_reset(principal: Principal, body: ForceResetIn) -> ForceResetOut:
    principal.require(Permission.SECURITY_MANAGE)
    not_impersonating(principal)
    tenant_id = principal.tenant_scope(body.tenant_id)
    change = Change(principal)
    if body.user_id:
        if body.effective_at is not None:
            raise invalid("effective_at", "Only for a tenant-wide reset")
        user = user_in_scope(principal, body.user_id, tenant_id)
        users.for_tenant(tenant_id).set_fields(change.tx, user.user_id, {"must_change_password": True})
        ended = sessions.end_all_for_user(change.tx, tenant_id, user.user_id)
        effective = clock.iso()
        change.audit(
            "security.force_password_reset",
            event_type="password_reset_forced",
            tenant_id=tenant_id,
            target_type="user",
            target_id=user.user_id,
            details={"sessions_ended": ended},
        )
        change.commit()
        return ForceResetOut(scope="user", effective_at=effective, sessions_ended=ended)
    moment = body.effective_at or clock.now()
    if moment.tzinfo is None:
        raise invalid("effective_at", "Give a time zone (e.g. Z)")
    policy = security.get(tenant_id).password_policy.model_copy(update={"force_reset_at": moment})
    security.put_section(change.tx, tenant_id, "password_policy", policy, principal.actor)
    change.audit(
        "security.force_password_reset",
        event_type="password_reset_forced",
        tenant_id=tenant_id,
        target_type="tenant",
        target_id=tenant_id,
        details={"effective_at": clock.iso(moment)},
    )
    change.commit()
    return ForceResetOut(scope="tenant", effective_at=clock.iso(moment))


def must_exist(user: User | None) -> User:
    if user is None:
        raise not_found(Kind.USER)
    return user
