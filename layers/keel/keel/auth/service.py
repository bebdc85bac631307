"""Login, logout, refresh and activation."""

from __future__ import annotations

from keel.auth import links, passwords, sessions
from keel.auth.models import SessionOut
from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal, RequestMeta
from keel.store import audit, keys
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import User, UserOut, UserStatus

REMEMBER_ME_SECONDS = 30 * 24 * 3600


def _bad_credentials() -> KeelError:
    return KeelError(ErrorCode.AUTH_001, "Invalid e-mail or password")


def login(email: str, password: str, meta: RequestMeta, *, remember_me: bool = False) -> SessionOut:
    found = users.lookup_email(email)
    user = users.get(*found, consistent=True) if found else None
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        if user is not None:
            audit.write(
                audit.build(
                    tenant_id=user.tenant_id,
                    actor_id=user.user_id,
                    action="auth.login",
                    event_type="login_failed",
                    target_type="user",
                    target_id=user.user_id,
                    result="failure",
                    severity="warning",
                    meta=meta,
                )
            )
        raise _bad_credentials()
    if user.status is UserStatus.SUSPENDED:
        raise KeelError(ErrorCode.AUTH_003)
    if user.status is UserStatus.PENDING_ACTIVATION:
        raise KeelError(ErrorCode.AUTH_008)
    if user.status is not UserStatus.ACTIVE:
        raise _bad_credentials()
    return _open_session(user, meta, remember_me=remember_me)


def _open_session(user: User, meta: RequestMeta, *, remember_me: bool) -> SessionOut:
    actor = Principal(
        tenant_id=user.tenant_id, user_id=user.user_id, role=user.role, permissions=frozenset(), meta=meta
    )
    change = Change(actor)
    new = sessions.start(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        role=user.role,
        meta=meta,
        absolute_seconds=REMEMBER_ME_SECONDS if remember_me else None,
    )
    now = clock.iso()
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user.user_id),
        "SET last_login_at = :now",
        values={":now": now},
        condition="attribute_exists(PK)",
    )
    change.audit(
        "auth.login", event_type="login", target_type="session", target_id=new.session_id, details={}
    )
    change.commit()
    user.last_login_at = now
    return SessionOut(
        token=new.token,
        session_id=new.session_id,
        expires_at=new.expires_at,
        idle_expires_at=new.idle_expires_at,
        user=UserOut.of(user),
    )


def logout(principal: Principal, token: str) -> None:
    item = sessions.load(token)
    change = Change(principal)
    sessions.end(change.tx, item)
    change.audit("auth.logout", event_type="logout", target_type="session", target_id=item["session_id"])
    change.commit()


def refresh(principal: Principal, token: str) -> SessionOut:
    """A new token for the same session window: idle timer reset, absolute end unchanged."""
    item = sessions.load(token)
    user = users.get(principal.tenant_id, principal.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise KeelError(ErrorCode.AUTH_004, "Session expired or invalid")
    change = Change(principal)
    sessions.end(change.tx, item)
    keep: dict[str, object] = {k: item[k] for k in ("actor_id", "impersonation_id") if k in item}
    new = sessions.start(
        change.tx,
        tenant_id=item["tenant_id"],
        user_id=item["user_id"],
        role=item["role"],
        meta=principal.meta,
        absolute_seconds=int(item["absolute_expires"]) - int(item["created_at"]),
        idle_seconds=int(item["idle_seconds"]),
        created_at=int(item["created_at"]),
        extra=keep,
    )
    change.audit(
        "auth.refresh",
        event_type="session_refreshed",
        target_type="session",
        target_id=new.session_id,
        details={"previous_session_id": item["session_id"]},
    )
    change.commit()
    return SessionOut(
        token=new.token,
        session_id=new.session_id,
        expires_at=new.expires_at,
        idle_expires_at=new.idle_expires_at,
        user=UserOut.of(user),
    )


def activate(token: str, password: str, meta: RequestMeta) -> SessionOut:
    """Confirms the e-mail from the activation link, sets the password and signs the user in."""
    change = Change(Principal.system())
    link = links.redeem(change.tx, token, links.ACTIVATION)
    passwords.validate_new(password, tenant_id=link["tenant_id"], user_id=link["user_id"])
    user = users.get(link["tenant_id"], link["user_id"], consistent=True)
    if user is None or user.status is not UserStatus.PENDING_ACTIVATION:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    actor = Principal(
        tenant_id=user.tenant_id, user_id=user.user_id, role=user.role, permissions=frozenset(), meta=meta
    )
    change.principal = actor
    now = clock.iso()
    index_expr, index_values = users.status_index_set(user, UserStatus.ACTIVE)  # list indexes follow
    change.tx.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user.user_id),
        "SET #s = :active, password_hash = :h, password_changed_at = :now, updated_at = :now, " + index_expr,
        names={"#s": "status"},
        values={
            **index_values,
            ":active": UserStatus.ACTIVE.value,
            ":pending": UserStatus.PENDING_ACTIVATION.value,
            ":h": passwords.hash_password(password),
            ":now": now,
        },
        condition="#s = :pending",
    )
    change.audit("auth.activate", event_type="account_activated", target_type="user", target_id=user.user_id)
    change.commit()
    user.status = UserStatus.ACTIVE
    return _open_session(user, meta, remember_me=False)
