"""User rules: listing and search, profile, creation under the plan's limit, role changes,
suspension. Every change is one transaction with its event and audit record."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from keel.audit import repo as audit
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.pagination import Page
from keel.core.permissions import SUPER_ADMIN, Permission
from keel.core.principal import PLATFORM_TENANT, Principal
from keel.identity import links, sessions
from keel.roles import service as roles
from keel.roles.resolve import permissions_for
from keel.store import audit as audit_store
from keel.store.change import Change
from keel.store.expressions import one_of
from keel.tenants import repo as tenants
from keel.users import repo
from keel.users.models import (
    BulkItemResult,
    BulkRoleChange,
    BulkRoleChangeResult,
    RoleChange,
    RoleHistoryEntry,
    SuspendRequest,
    Suspension,
    TenantSummary,
    UnsuspendRequest,
    User,
    UserCreate,
    UserDetail,
    UserFilter,
    UserOut,
    UserStatus,
    UserUpdate,
)

EMAIL_CHANGE_SECONDS = 24 * 3600


def load(principal: Principal, tenant_id: str | None, user_id: str, *, consistent: bool = False) -> User:
    """A user of the caller's tenant (a super admin may name another); deleted ones are gone."""
    scoped = principal.tenant_scope(tenant_id)
    user = repo.for_tenant(scoped).get(user_id, consistent=consistent)
    if user is None or user.status is UserStatus.DELETED:
        raise not_found(Kind.USER)
    return user


def require_self_or(principal: Principal, user_id: str, permission: Permission) -> None:
    if principal.user_id != user_id:
        principal.require(permission)


# listing ------------------------------------------------------------------------------------


def _bound(value: date | datetime | None, *, upper: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.max if upper else time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.now().tzinfo)
    return clock.iso(value)


def list_users(principal: Principal, f: UserFilter, limit: int, cursor: str | None) -> Page[UserOut]:
    """One Query per page whatever the filter (search adds one BatchGetItem for the page's users)."""
    principal.require(Permission.USERS_READ)
    tenant_id = principal.tenant_scope(f.tenant_id)
    lo, hi = _bound(f.registered_from, upper=False), _bound(f.registered_to, upper=True)
    if f.q:
        return _search(tenant_id, f, lo, hi, limit, cursor)
    users, next_cursor = repo.for_tenant(tenant_id).page(
        role=f.role, status=f.status, lo=lo, hi=hi, limit=limit, cursor=cursor
    )
    return Page[UserOut](items=[UserOut.of(u) for u in users], next_cursor=next_cursor)


def _search(
    tenant_id: str, f: UserFilter, lo: str | None, hi: str | None, limit: int, cursor: str | None
) -> Page[UserOut]:
    users = repo.for_tenant(tenant_id)
    ordered, next_cursor = users.search(f.q or "", limit, cursor)
    found = users.get_many(ordered)
    items = []
    for user_id in ordered:
        user = found.get(user_id)
        if user is None or user.status is UserStatus.DELETED:
            continue
        if (f.role and user.role != f.role) or (f.status and user.status is not f.status):
            continue
        if (lo and user.created_at < lo) or (hi and user.created_at > hi + "~"):
            continue
        items.append(UserOut.of(user))
    return Page[UserOut](items=items, next_cursor=next_cursor)


def get_user(principal: Principal, tenant_id: str | None, user_id: str) -> UserDetail:
    require_self_or(principal, user_id, Permission.USERS_READ)
    user = load(principal, tenant_id, user_id)
    tenant = tenants.for_tenant(user.tenant_id).get()
    return UserDetail.model_validate(
        {
            **user.model_dump(),
            "permissions": sorted(permissions_for(user.tenant_id, user.role)),
            "tenant": TenantSummary(tenant_id=tenant.tenant_id, name=tenant.name, plan=tenant.plan)
            if tenant
            else None,
            "two_factor_enabled": bool(user.two_factor_methods),
        }
    )


# creation -----------------------------------------------------------------------------------


def create_user(principal: Principal, tenant_id: str | None, body: UserCreate) -> UserOut:
    principal.require(Permission.USERS_WRITE)
    scoped = principal.tenant_scope(tenant_id)
    roles.assignable(principal, scoped, body.role)
    # An address with an account in another tenant is answered exactly like a new one (same read,
    # same transaction, same mail); the account is created without the address's reservation and
    # only its holder, activating, is told (README "Users and invitations").
    owner = repo.lookup_email(str(body.email))
    if owner and owner[0] == scoped:
        raise repo.email_taken()
    now = clock.iso()
    user = User(
        user_id=ids.new_id("usr"),
        tenant_id=scoped,
        email=str(body.email),
        name=body.name,
        role=body.role,
        phone=body.phone,
        status=UserStatus.PENDING_ACTIVATION,
        created_at=now,
        updated_at=now,
        email_reserved=owner is None,
    )
    change = Change(principal)
    tenants.for_tenant(scoped).take_seat(change.tx)
    repo.add_new_user(change.tx, user)
    change.emit(
        "user.created", {"tenant_id": scoped, "user_id": user.user_id, "role": user.role}, tenant_id=scoped
    )
    change.audit(
        "user.create",
        event_type="user_created",
        tenant_id=scoped,
        target_type="user",
        target_id=user.user_id,
        details={"role": user.role},
    )
    change.commit()
    return UserOut.of(user)


# profile ------------------------------------------------------------------------------------


def update_user(principal: Principal, tenant_id: str | None, user_id: str, body: UserUpdate) -> UserDetail:
    require_self_or(principal, user_id, Permission.USERS_WRITE)
    user = load(principal, tenant_id, user_id)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, mode="json")
    new_email = changes.pop("email", None)
    if new_email and new_email.lower() == user.email.lower():
        new_email = None
    if new_email:
        # Only an address of this tenant is refused here; another tenant's answers as a new one and
        # is refused at confirmation, to its owner alone (no enumeration across tenants).
        found = repo.lookup_email(new_email)
        if found and found[0] == user.tenant_id:
            raise KeelError(
                ErrorCode.SAAS_011,
                "An account with this e-mail already exists",
                details=[{"field": "email", "message": "already registered"}],
            )
        changes["pending_email"] = new_email
    if "name" in changes and changes["name"] is None:
        raise invalid("name", "name cannot be empty")
    if not changes:
        return get_user(principal, tenant_id, user_id)
    changes["updated_at"] = clock.iso()
    after = user.model_copy(update=changes)
    change = Change(principal)
    repo.for_tenant(user.tenant_id).update_profile(change.tx, user, after, changes)
    changed = sorted(set(changes) - {"updated_at"})
    change.emit(
        "user.updated",
        {"tenant_id": user.tenant_id, "user_id": user_id, "changed": changed},
        tenant_id=user.tenant_id,
    )
    if new_email:
        change.emit(
            "user.email_change_requested",
            {"tenant_id": user.tenant_id, "user_id": user_id},
            tenant_id=user.tenant_id,
        )
    change.audit(
        "user.update",
        event_type="user_updated",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user_id,
        details={"changed": changed},
    )
    change.commit()
    return get_user(principal, user.tenant_id, user_id)


def confirm_email_change(token: str, principal: Principal) -> UserOut:
    """The new address is proven: it becomes the login e-mail (reservation moved) and is verified."""
    change = Change(principal)
    link = links.redeem(change.tx, token, links.EMAIL_CHANGE)
    user = repo.for_tenant(link["tenant_id"]).get(link["user_id"], consistent=True)
    if user is None or user.status is UserStatus.DELETED or not user.pending_email:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    new_email = user.pending_email
    after = user.model_copy(update={"email": new_email, "pending_email": None, "updated_at": clock.iso()})
    change.principal = Principal(
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        role=user.role,
        permissions=frozenset(),
        meta=principal.meta,
    )
    repo.for_tenant(user.tenant_id).confirm_email(
        change.tx, user, after, on_fail=KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    )
    change.emit(
        "user.email_changed", {"tenant_id": user.tenant_id, "user_id": user.user_id}, tenant_id=user.tenant_id
    )
    change.audit(
        "user.email_change",
        event_type="email_changed",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.user_id,
    )
    change.commit()
    return UserOut.of(after)


def list_activity(
    principal: Principal, tenant_id: str | None, user_id: str, kind: str, limit: int, cursor: str | None
) -> Page[audit_store.AuditRecord]:
    """Login history and recent audited actions of one user, newest first (one Query per page)."""
    require_self_or(principal, user_id, Permission.USERS_READ)
    user = load(principal, tenant_id, user_id)
    logins = ("login", "login_failed", "logout", "session_refreshed")
    where = one_of("event_type", logins, negate=kind == "actions") if kind in {"logins", "actions"} else None
    records, next_cursor = audit.for_tenant(user.tenant_id).page(
        user_id=user_id, where=where, limit=limit, cursor=cursor
    )
    return Page[audit_store.AuditRecord](items=records, next_cursor=next_cursor)


# roles --------------------------------------------------------------------------------------


def guard_last_super_admin(user: User, action: str) -> None:
    """Refuses to take away the platform's last active super admin."""
    if user.tenant_id != PLATFORM_TENANT or user.role != SUPER_ADMIN:
        return
    active = repo.for_tenant(PLATFORM_TENANT).active_ids_with_role(SUPER_ADMIN, limit=2)
    others = [u for u in active if u != user.user_id]
    if not others:
        raise KeelError(ErrorCode.SAAS_011, f"Cannot {action} the last super admin")


def _change_role(principal: Principal, user: User, body: RoleChange) -> str:
    if user.user_id == principal.actor:
        raise KeelError(ErrorCode.SAAS_003, "You cannot change your own role")
    roles.assignable(principal, user.tenant_id, body.role)
    if user.role == body.role:
        raise KeelError(ErrorCode.SAAS_003, f"The user already has the role {body.role!r}")
    _no_escalation_over(principal, user)
    if user.role == SUPER_ADMIN:
        guard_last_super_admin(user, "demote")
    now = clock.iso()
    change = Change(principal)
    users = repo.for_tenant(user.tenant_id)
    users.set_role(
        change.tx,
        user,
        body.role,
        now,
        on_fail=KeelError(ErrorCode.SAAS_003, "The user's role changed meanwhile; reload and retry"),
    )
    users.add_role_history(
        change.tx,
        user.user_id,
        {
            "from_role": user.role,
            "to_role": body.role,
            "reason": body.reason,
            "changed_by": principal.actor,
            "changed_at": now,
        },
    )
    # sessions carry the role: the user's next request runs with the new one
    for item in sessions.for_user(user.tenant_id, user.user_id):
        change.tx.update(
            item["PK"],
            item["SK"],
            "SET #r = :new",
            names={"#r": "role"},
            values={":new": body.role},
            condition="attribute_exists(PK)",
        )
    change.emit(
        "user.role_changed",
        {"tenant_id": user.tenant_id, "user_id": user.user_id, "from_role": user.role, "to_role": body.role},
        tenant_id=user.tenant_id,
    )
    change.audit(
        "user.change_role",
        event_type="role_changed",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.user_id,
        details={"from_role": user.role, "to_role": body.role, "reason": body.reason},
    )
    change.commit()
    return user.role


def _no_escalation_over(principal: Principal, user: User) -> None:
    """Only someone holding every permission of the user's current role may change it."""
    current = set(permissions_for(user.tenant_id, user.role))
    if not current <= set(principal.permissions):
        raise KeelError(ErrorCode.SAAS_001, "The user's current role has permissions you do not hold")


def change_role(principal: Principal, tenant_id: str | None, user_id: str, body: RoleChange) -> UserOut:
    principal.require(Permission.ROLES_ASSIGN)
    user = load(principal, tenant_id, user_id, consistent=True)
    _change_role(principal, user, body)
    return UserOut.of(user.model_copy(update={"role": body.role}))


def bulk_change_roles(
    principal: Principal, tenant_id: str | None, body: BulkRoleChange
) -> BulkRoleChangeResult:
    """Each user is its own change: one refused id does not undo the others."""
    principal.require(Permission.ROLES_ASSIGN)
    scoped = principal.tenant_scope(tenant_id)
    roles.assignable(principal, scoped, body.role)
    results = []
    for user_id in dict.fromkeys(body.user_ids):
        try:
            user = load(principal, scoped, user_id, consistent=True)
            before = _change_role(principal, user, RoleChange(role=body.role, reason=body.reason))
            results.append(BulkItemResult(user_id=user_id, ok=True, from_role=before))
        except KeelError as exc:
            results.append(BulkItemResult(user_id=user_id, ok=False, code=exc.code.name, message=exc.message))
    changed = sum(r.ok for r in results)
    return BulkRoleChangeResult(
        role=body.role, changed=changed, failed=len(results) - changed, results=results
    )


def role_history(
    principal: Principal, tenant_id: str | None, user_id: str, limit: int, cursor: str | None
) -> Page[RoleHistoryEntry]:
    require_self_or(principal, user_id, Permission.USERS_READ)
    user = load(principal, tenant_id, user_id)
    items, next_cursor = repo.for_tenant(user.tenant_id).role_history(user_id, limit, cursor)
    fields = set(RoleHistoryEntry.model_fields)
    return Page[RoleHistoryEntry](
        items=[RoleHistoryEntry.model_validate({k: v for k, v in i.items() if k in fields}) for i in items],
        next_cursor=next_cursor,
    )


# suspension ---------------------------------------------------------------------------------


def suspend(principal: Principal, tenant_id: str | None, user_id: str, body: SuspendRequest) -> UserDetail:
    principal.require(Permission.USERS_SUSPEND)
    user = load(principal, tenant_id, user_id, consistent=True)
    if user.user_id == principal.actor:
        raise KeelError(ErrorCode.SAAS_011, "You cannot suspend yourself")
    if user.status is UserStatus.SUSPENDED:
        raise KeelError(ErrorCode.SAAS_011, "The user is already suspended")
    _no_escalation_over(principal, user)
    guard_last_super_admin(user, "suspend")
    until = None
    if body.until is not None:
        moment = body.until if body.until.tzinfo else body.until.replace(tzinfo=clock.now().tzinfo)
        if moment <= clock.now():
            raise invalid("until", "until must be in the future (omit it for an indefinite suspension)")
        until = clock.iso(moment)
    now = clock.iso()
    suspension = Suspension(
        reason=body.reason,
        notes=body.notes,
        until=until,
        by=principal.actor,
        at=now,
        previous_status=user.status,
    )
    users = repo.for_tenant(user.tenant_id)
    change = Change(principal)
    users.move_status(
        change.tx,
        user,
        UserStatus.SUSPENDED,
        fields={"suspension": suspension.model_dump(mode="json"), "updated_at": now},
    )
    ended = sessions.end_all_for_user(change.tx, user.tenant_id, user_id)
    if until:
        users.add_due_suspension(change.tx, user_id, until)
    change.emit(
        "user.suspended",
        {"tenant_id": user.tenant_id, "user_id": user_id, "until": until},
        tenant_id=user.tenant_id,
    )
    change.audit(
        "user.suspend",
        event_type="user_suspended",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user_id,
        severity="warning",
        details={"reason": body.reason, "until": until, "notes": body.notes, "sessions_ended": ended},
    )
    change.commit()
    return get_user(principal, user.tenant_id, user_id)


def unsuspend(
    principal: Principal, tenant_id: str | None, user_id: str, body: UnsuspendRequest
) -> UserDetail:
    principal.require(Permission.USERS_SUSPEND)
    user = load(principal, tenant_id, user_id, consistent=True)
    if user.status is not UserStatus.SUSPENDED or user.suspension is None:
        raise KeelError(ErrorCode.SAAS_011, "The user is not suspended")
    _no_escalation_over(principal, user)
    restored = user.suspension.previous_status
    users = repo.for_tenant(user.tenant_id)
    change = Change(principal)
    users.move_status(
        change.tx,
        user,
        restored,
        fields={"updated_at": clock.iso()},
        remove=("suspension",),
        on_fail=KeelError(ErrorCode.SAAS_011, "The user is not suspended"),
    )
    if user.suspension.until:
        users.remove_due_suspension(change.tx, user_id, user.suspension.until)
    change.emit(
        "user.unsuspended", {"tenant_id": user.tenant_id, "user_id": user_id}, tenant_id=user.tenant_id
    )
    change.audit(
        "user.unsuspend",
        event_type="user_unsuspended",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user_id,
        details={"reason": body.reason, "suspension_reason": user.suspension.reason},
    )
    change.commit()
    return get_user(principal, user.tenant_id, user_id)


def lift_due_suspensions(limit: int = 500) -> int:
    """The schedule: lifts every temporary suspension whose `until` has passed, as the system."""
    now = clock.iso()
    lifted = 0
    for item in repo.due_suspensions(now, limit):
        if item["until"] > now:
            continue
        system = Principal.system(item["tenant_id"], "lift_suspensions")
        try:
            unsuspend(system, None, item["user_id"], UnsuspendRequest(reason="temporary suspension ended"))
            lifted += 1
        except KeelError:  # unsuspended or deleted meanwhile: the marker is stale
            repo.drop_due_suspension(item)
    return lifted
