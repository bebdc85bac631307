"""User rules: listing and search, profile, creation under the plan's limit, role changes,
suspension. Every change is one transaction with its event and audit record."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from keel.auth import links, sessions
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, invalid, not_found
from keel.core.pagination import Page
from keel.core.permissions import SUPER_ADMIN, Permission
from keel.core.principal import PLATFORM_TENANT, Principal
from keel.roles import service as roles
from keel.roles.resolve import permissions_for
from keel.store import audit as audit_store
from keel.store import keys, table
from keel.store.change import Change
from keel.store.table import Tx
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

EMAIL_CHANGE = "email_change"
EMAIL_CHANGE_SECONDS = 24 * 3600


def load(principal: Principal, tenant_id: str | None, user_id: str, *, consistent: bool = False) -> User:
    """A user of the caller's tenant (a super admin may name another); deleted ones are gone."""
    scoped = principal.tenant_scope(tenant_id)
    user = repo.get(scoped, user_id, consistent=consistent)
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
    query: dict[str, Any] = {"limit": limit, "cursor": cursor, "newest_first": True}
    date_range = (lo or "0", (hi or "9") + "~") if lo or hi else None
    if f.role:
        pk, query["index"] = keys.users_role_index_pk(tenant_id, f.role), "GSI2"
        if f.status:
            prefix = f"{f.status.value}#"
            if date_range:
                query["sk_between"] = (prefix + date_range[0], prefix + date_range[1])
            else:
                query["sk_prefix"] = prefix
        elif date_range:
            query.update(
                filter_expression="created_at BETWEEN :lo AND :hi",
                values={":lo": date_range[0], ":hi": date_range[1]},
            )
    elif f.status:
        pk, query["index"] = keys.users_status_index_pk(tenant_id, f.status.value), "GSI3"
        query["sk_between"] = date_range
    else:
        pk, query["index"] = keys.users_index_pk(tenant_id), "GSI1"
        query["sk_between"] = date_range
    page = table.query(pk, **query)
    return Page[UserOut](
        items=[UserOut.of(repo.from_item(i)) for i in page.items], next_cursor=page.next_cursor
    )


def _search(
    tenant_id: str, f: UserFilter, lo: str | None, hi: str | None, limit: int, cursor: str | None
) -> Page[UserOut]:
    term = (f.q or "").strip().lower()
    prefix = f"E#{term}" if "@" in term else f"N#{term}"
    page = table.query(keys.user_search_pk(tenant_id), sk_prefix=prefix, limit=limit, cursor=cursor)
    ordered = list(dict.fromkeys(i["user_id"] for i in page.items))
    found = repo.get_many(tenant_id, ordered)
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
    return Page[UserOut](items=items, next_cursor=page.next_cursor)


def get_user(principal: Principal, tenant_id: str | None, user_id: str) -> UserDetail:
    require_self_or(principal, user_id, Permission.USERS_READ)
    user = load(principal, tenant_id, user_id)
    tenant = tenants.get(user.tenant_id)
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


def count_new_user(tx: Tx, tenant_id: str) -> None:
    """Takes one seat of the tenant's plan, or fails the whole transaction with SAAS_006."""
    tx.update(
        keys.tenant_pk(tenant_id),
        keys.TENANT_SK,
        "SET user_count = user_count + :one",
        condition="attribute_exists(PK) AND user_count < limits.max_users",
        values={":one": 1},
        on_fail=KeelError(
            ErrorCode.SAAS_006, "The tenant has reached its user limit; upgrade the plan or remove users"
        ),
    )


def create_user(principal: Principal, tenant_id: str | None, body: UserCreate) -> UserOut:
    principal.require(Permission.USERS_WRITE)
    scoped = principal.tenant_scope(tenant_id)
    roles.assignable(principal, scoped, body.role)
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
    )
    change = Change(principal)
    count_new_user(change.tx, scoped)
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
        found = repo.lookup_email(new_email)
        if found:
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
    sets = [f"#{k} = :{k}" for k, v in changes.items() if v is not None]
    removes = [f"#{k}" for k, v in changes.items() if v is None]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user_id),
        expression,
        names={f"#{k}": k for k in changes} | {"#st": "status"},
        values={f":{k}": v for k, v in changes.items() if v is not None} | {":deleted": "deleted"},
        condition="attribute_exists(PK) AND #st <> :deleted",
        on_fail=not_found(Kind.USER),
    )
    repo.replace_search_entries(change.tx, user, after)
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
    link = links.redeem(change.tx, token, EMAIL_CHANGE)
    user = repo.get(link["tenant_id"], link["user_id"], consistent=True)
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
    change.tx.delete(keys.email_pk(user.email), keys.EMAIL_SK)
    repo.reserve_email(change.tx, new_email, user)
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user.user_id),
        "SET email = :e, updated_at = :now REMOVE pending_email",
        values={":e": new_email, ":now": after.updated_at, ":p": new_email},
        condition="pending_email = :p",
        on_fail=KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired"),
    )
    repo.replace_search_entries(change.tx, user, after)
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
    query: dict[str, Any] = {"index": "GSI1", "limit": limit, "cursor": cursor, "newest_first": True}
    logins = {":a": "login", ":b": "login_failed", ":c": "logout", ":d": "session_refreshed"}
    if kind == "logins":
        query.update(filter_expression="event_type IN (:a, :b, :c, :d)", values=logins)
    elif kind == "actions":
        query.update(filter_expression="NOT event_type IN (:a, :b, :c, :d)", values=logins)
    page = table.query(keys.audit_user_index_pk(user.tenant_id, user_id), **query)
    fields = set(audit_store.AuditRecord.model_fields)
    records = [
        audit_store.AuditRecord.model_validate({k: v for k, v in i.items() if k in fields})
        for i in page.items
    ]
    return Page[audit_store.AuditRecord](items=records, next_cursor=page.next_cursor)


# roles --------------------------------------------------------------------------------------


def guard_last_super_admin(user: User, action: str) -> None:
    """Refuses to take away the platform's last active super admin."""
    if user.tenant_id != PLATFORM_TENANT or user.role != SUPER_ADMIN:
        return
    page = table.query(
        keys.users_role_index_pk(PLATFORM_TENANT, SUPER_ADMIN),
        index="GSI2",
        sk_prefix=f"{UserStatus.ACTIVE.value}#",
        limit=2,
    )
    others = [i for i in page.items if i["user_id"] != user.user_id]
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
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user.user_id),
        "SET #r = :new, updated_at = :now, GSI2PK = :g2",
        names={"#r": "role"},
        values={
            ":new": body.role,
            ":old": user.role,
            ":now": now,
            ":g2": keys.users_role_index_pk(user.tenant_id, body.role),
        },
        condition="#r = :old",
        on_fail=KeelError(ErrorCode.SAAS_003, "The user's role changed meanwhile; reload and retry"),
    )
    change.tx.put(
        {
            "PK": keys.tenant_pk(user.tenant_id),
            "SK": keys.user_part_sk(user.user_id, "ROLEHIST", ids.ulid()),
            "entity": "role_history",
            "user_id": user.user_id,
            "from_role": user.role,
            "to_role": body.role,
            "reason": body.reason,
            "changed_by": principal.actor,
            "changed_at": now,
        }
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
    page = table.query(
        keys.tenant_pk(user.tenant_id),
        sk_prefix=keys.user_part_sk(user_id, "ROLEHIST") + "#",
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    fields = set(RoleHistoryEntry.model_fields)
    return Page[RoleHistoryEntry](
        items=[
            RoleHistoryEntry.model_validate({k: v for k, v in i.items() if k in fields}) for i in page.items
        ],
        next_cursor=page.next_cursor,
    )


# suspension ---------------------------------------------------------------------------------


def _due_sk(until: str, tenant_id: str, user_id: str) -> str:
    return f"{until}#{tenant_id}#{user_id}"


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
    index_expr, index_values = repo.status_index_set(user, UserStatus.SUSPENDED)
    change = Change(principal)
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user_id),
        f"SET #s = :sus, suspension = :susp, updated_at = :now, {index_expr}",
        names={"#s": "status"},
        values={
            ":sus": "suspended",
            ":susp": suspension.model_dump(mode="json"),
            ":now": now,
            ":cur": user.status.value,
            **index_values,
        },
        condition="#s = :cur",
        on_fail=KeelError(ErrorCode.SAAS_011, "The user changed meanwhile; reload and retry"),
    )
    ended = sessions.end_all_for_user(change.tx, user.tenant_id, user_id)
    if until:
        change.tx.put(
            {
                "PK": keys.SUSPENSIONS_DUE_PK,
                "SK": _due_sk(until, user.tenant_id, user_id),
                "entity": "suspension_due",
                "tenant_id": user.tenant_id,
                "user_id": user_id,
                "until": until,
            }
        )
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
    index_expr, index_values = repo.status_index_set(user, restored)
    change = Change(principal)
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user_id),
        f"SET #s = :back, updated_at = :now, {index_expr} REMOVE suspension",
        names={"#s": "status"},
        values={":back": restored.value, ":sus": "suspended", ":now": clock.iso(), **index_values},
        condition="#s = :sus",
        on_fail=KeelError(ErrorCode.SAAS_011, "The user is not suspended"),
    )
    if user.suspension.until:
        change.tx.delete(keys.SUSPENSIONS_DUE_PK, _due_sk(user.suspension.until, user.tenant_id, user_id))
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
    page = table.query(keys.SUSPENSIONS_DUE_PK, sk_between=("0", now + "~"), limit=limit)
    lifted = 0
    for item in page.items:
        if item["until"] > now:
            continue
        system = Principal.system(item["tenant_id"], "lift_suspensions")
        try:
            unsuspend(system, None, item["user_id"], UnsuspendRequest(reason="temporary suspension ended"))
            lifted += 1
        except KeelError:  # unsuspended or deleted meanwhile: the marker is stale
            table.delete(item["PK"], item["SK"])
    return lifted
