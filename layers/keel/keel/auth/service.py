"""Login (lockout, status, expiry, 2FA challenge, tenant session settings, detection), verify_2fa,
logout, refresh and activation.

A login costs two reads before the password check: one BatchGetItem for what the e-mail names
(its reservation, its failure counter, the IP's counter) and one for the user, the tenant's
security settings and the user's known places (all in the tenant partition).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keel.auth.models import LoginOut, SessionOut
from keel.auth.passwords import validate_new
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal, RequestMeta
from keel.core.sealing import unseal
from keel.identity import links, mfa, passwords, repo, sessions
from keel.identity.tokens import code_digest, digest
from keel.security import lockout, suspicious
from keel.security import repo as security
from keel.security.models import Enforcement, SecuritySettings
from keel.security.sms import masked
from keel.security.sms import send as send_sms
from keel.store import audit
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import User, UserOut, UserStatus

REMEMBER_ME_SECONDS = 30 * 24 * 3600
CHALLENGE_SECONDS = 10 * 60
SETUP_SESSION_SECONDS = 15 * 60
CHANGE_LINK_SECONDS = 15 * 60
METHOD_ORDER = ("totp", "sms", "email")


def _bad_credentials() -> KeelError:
    return KeelError(ErrorCode.AUTH_001, "Invalid e-mail or password")


def _failure_audit(user: User, meta: RequestMeta, event_type: str, **details: Any) -> None:
    audit.write(
        audit.build(
            tenant_id=user.tenant_id,
            actor_id=user.user_id,
            action="auth.login",
            event_type=event_type,
            target_type="user",
            target_id=user.user_id,
            result="failure",
            severity="warning",
            meta=meta,
            details=details,
        )
    )


def _commit_refused_login(change: Change, user: User, event_type: str) -> None:
    """A login that is refused but leaves something behind (a token to continue with): its writes
    and its failure audit record, together."""
    change.audit(
        "auth.login", event_type=event_type, target_type="user", target_id=user.user_id, result="failure"
    )
    change.commit()


def login(  # noqa: PLR0912, PLR0915 - the login rules read best in order, in one place
    email: str, password: str, meta: RequestMeta, *, remember_me: bool = False, method: str | None = None
) -> LoginOut:
    email_key, lock_key, ip_key = (
        users.email_key(email),
        lockout.lockout_key(email),
        lockout.ip_key(meta.ip),
    )
    first = repo.fetch([email_key, lock_key, ip_key])
    lockout.check_ip(first.get(ip_key))
    owner = first.get(email_key)
    user: User | None = None
    raw_user: dict[str, Any] = {}
    places: dict[str, Any] | None = None
    settings = SecuritySettings()
    if owner:
        user_key = users.for_tenant(owner["tenant_id"]).key(owner["user_id"])
        settings_key = security.settings_key(owner["tenant_id"])
        places_key = security.for_tenant(owner["tenant_id"]).known_places_key(owner["user_id"])
        second = repo.fetch([user_key, settings_key, places_key])
        raw_user = second.get(user_key) or {}
        user = users.from_item(raw_user) if raw_user else None
        settings = security.from_item(second.get(settings_key))
        places = second.get(places_key)
    policy = settings.password_policy
    until = lockout.locked_until(first.get(lock_key))
    if until:
        lockout.record_ip_failure(meta.ip)
        if user is not None:
            _failure_audit(user, meta, "login_locked")
            suspicious.on_failed_login(user.tenant_id, user.user_id, meta, settings.ip_allowlist)
        raise lockout.locked_error(until)
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        lockout.record_ip_failure(meta.ip)
        locked = lockout.record_failure(email, first.get(lock_key), policy)
        if user is not None:
            _failure_audit(user, meta, "login_failed")
            suspicious.on_failed_login(user.tenant_id, user.user_id, meta, settings.ip_allowlist)
            if locked:
                _account_locked(user, meta, locked)
        if locked:
            raise lockout.locked_error(locked)
        raise _bad_credentials()
    if user.status is UserStatus.SUSPENDED:
        raise KeelError(ErrorCode.AUTH_003)
    if user.status is UserStatus.PENDING_ACTIVATION:
        raise KeelError(ErrorCode.AUTH_008)
    if user.status is not UserStatus.ACTIVE:
        raise _bad_credentials()
    failures = first.get(lock_key)
    if _password_expired(user, raw_user, settings):
        raise _expired(user, meta)
    methods = [m for m in METHOD_ORDER if m in user.two_factor_methods]
    if methods:
        return _challenge(user, meta, methods, method, remember_me=remember_me, clear_failures=bool(failures))
    setup_needed = _two_factor_due(user, settings)
    if setup_needed == "now":
        raise _setup_required(user, meta)
    out = open_session(
        user, meta, settings, places, remember_me=remember_me, clear_failures=email if failures else None
    )
    out.two_factor_setup_required = setup_needed == "soon"
    return out


def _account_locked(user: User, meta: RequestMeta, until: int) -> None:
    change = Change(Principal.system(user.tenant_id, "lockout").with_meta(meta))
    change.audit(
        "auth.lockout",
        event_type="account_locked",
        target_type="user",
        target_id=user.user_id,
        severity="warning",
        details={"locked_until": until},
    )
    change.commit()


def _password_expired(user: User, raw: dict[str, Any], settings: SecuritySettings) -> bool:
    policy = settings.password_policy
    if raw.get("must_change_password"):
        return True
    changed = clock.parse(user.password_changed_at) if user.password_changed_at else None
    if changed is None:
        return False
    now = clock.now()
    if policy.max_age_days and changed + timedelta(days=policy.max_age_days) <= now:
        return True
    forced = policy.force_reset_at
    return forced is not None and changed < forced <= now


def _expired(user: User, meta: RequestMeta) -> KeelError:
    """AUTH_007, with a one-time token (15 min) for reset_password: the caller proved the password."""
    change = Change(Principal.system(user.tenant_id, "auth").with_meta(meta))
    token = links.issue(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        purpose=links.PASSWORD_RESET,
        ttl_seconds=CHANGE_LINK_SECONDS,
    )
    _commit_refused_login(change, user, "password_expired")
    return KeelError(
        ErrorCode.AUTH_007,
        "Password expired: set a new one with reset_password and this token",
        details=[{"field": "password", "message": "expired", "reset_token": token}],
    )


def _two_factor_due(user: User, settings: SecuritySettings) -> str | None:
    """None (not needed), "soon" (in the grace period) or "now" (login refused until set up)."""
    tf = settings.two_factor
    if user.two_factor_methods or tf.enforcement is not Enforcement.REQUIRED or user.role in tf.exempt_roles:
        return None
    since = tf.required_since or clock.now()
    created = clock.parse(user.created_at)
    start = max(since, created)
    return "now" if start + timedelta(days=tf.grace_period_days) <= clock.now() else "soon"


def _setup_required(user: User, meta: RequestMeta) -> KeelError:
    """AUTH_005 with a short session that can only enrol a second factor."""
    change = Change(Principal.system(user.tenant_id, "auth").with_meta(meta))
    new = sessions.start(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        role=user.role,
        meta=meta,
        absolute_seconds=SETUP_SESSION_SECONDS,
        idle_seconds=SETUP_SESSION_SECONDS,
        extra={"scope": sessions.SETUP_SCOPE},
    )
    _commit_refused_login(change, user, "2fa_setup_required")
    return KeelError(
        ErrorCode.AUTH_005,
        "Two-factor authentication is required: enrol with this setup token, then log in again",
        details=[{"field": "two_factor", "message": "required", "setup_token": new.token}],
    )


def _challenge(
    user: User,
    meta: RequestMeta,
    methods: list[str],
    wanted: str | None,
    *,
    remember_me: bool,
    clear_failures: bool,
) -> LoginOut:
    method = wanted if wanted in methods else methods[0]
    token = "klc_" + ids.token(32)
    token_hash = digest(token)
    expires = clock.epoch() + CHALLENGE_SECONDS
    item: dict[str, Any] = {
        **repo.challenge_key(token_hash),
        "entity": "challenge",
        "tenant_id": user.tenant_id,
        "user_id": user.user_id,
        "methods": methods,
        "method": method,
        "remember_me": remember_me,
        "clear_failures": user.email if clear_failures else None,
        "attempts": 0,
        "expires_at": expires,
    }
    change = Change(Principal(user.tenant_id, user.user_id, user.role, frozenset(), meta=meta))
    sent_to = None
    if method == mfa.SMS:
        phone = (mfa_item(user, mfa.SMS) or {}).get("phone")
        if phone:
            code = mfa.new_code()
            item.update(code_hash=code_digest(code), code_expires=clock.epoch() + mfa.CODE_SECONDS)
            send_sms(phone, f"Your Keel sign-in code is {code}. It expires in 10 minutes.")
            sent_to = masked(phone)
    elif method == mfa.EMAIL:
        change.emit(
            "auth.two_factor_code",
            {"tenant_id": user.tenant_id, "user_id": user.user_id, "pk": item["PK"], "sk": item["SK"]},
        )
        sent_to = _mask_email(user.email)
    change.tx.put(item)
    change.audit(
        "auth.login",
        event_type="2fa_challenge",
        target_type="user",
        target_id=user.user_id,
        details={"method": method},
    )
    change.commit()
    return LoginOut(
        two_factor_required=True,
        challenge_token=token,
        challenge_expires_at=expires,
        methods=[*methods, mfa.BACKUP],
        code_sent_to=sent_to,
    )


def _mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def mfa_item(user: User, method: str) -> dict[str, Any] | None:
    return repo.for_tenant(user.tenant_id).factor(user.user_id, method)


def verify_2fa(challenge_token: str, code: str, method: str | None, meta: RequestMeta) -> LoginOut:
    (pk, sk), challenge = repo.challenge(digest(challenge_token))
    if not challenge:
        raise mfa.wrong_code()
    if int(challenge.get("attempts", 0)) >= mfa.MAX_ATTEMPTS:
        repo.drop((pk, sk))
        raise mfa.too_many()
    user = users.for_tenant(challenge["tenant_id"]).get(challenge["user_id"], consistent=True)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise mfa.wrong_code()
    method = method or challenge["method"]
    principal = Principal(user.tenant_id, user.user_id, user.role, frozenset(), meta=meta)
    change = Change(principal)
    try:
        if method == mfa.BACKUP:
            mfa.use_backup_code(change.tx, user.tenant_id, user.user_id, code)
        elif method == mfa.TOTP and mfa.TOTP in challenge["methods"]:
            sealed = (mfa_item(user, mfa.TOTP) or {}).get("secret")
            if not sealed:
                raise mfa.wrong_code()
            mfa.use_totp(change.tx, user.tenant_id, user.user_id, unseal(sealed, mfa.TOTP_SEAL), code)
        elif method in (mfa.SMS, mfa.EMAIL) and method == challenge["method"]:
            if not mfa.code_matches(challenge, code):
                raise mfa.wrong_code()
        else:
            raise mfa.wrong_code()
        change.tx.delete(pk, sk, condition="attribute_exists(PK)", on_fail=mfa.wrong_code())
        places_key = security.for_tenant(user.tenant_id).known_places_key(user.user_id)
        second = repo.fetch([security.settings_key(user.tenant_id), places_key])
        settings = security.from_item(second.get(security.settings_key(user.tenant_id)))
        places = second.get(places_key)
        return open_session(
            user,
            meta,
            settings,
            places,
            remember_me=bool(challenge.get("remember_me")),
            change=change,
            clear_failures=challenge.get("clear_failures"),
            details={"second_factor": method},
        )
    except KeelError as exc:
        if exc.code is not ErrorCode.AUTH_006:
            raise
        attempts = mfa.count_attempt(pk, sk)
        _failure_audit(user, meta, "2fa_failed", method=method, attempts=attempts)
        if attempts >= mfa.MAX_ATTEMPTS:
            repo.drop((pk, sk))
            raise mfa.too_many() from exc
        raise


def open_session(
    user: User,
    meta: RequestMeta,
    settings: SecuritySettings,
    places: dict[str, Any] | None,
    *,
    remember_me: bool,
    change: Change | None = None,
    clear_failures: str | None = None,
    details: dict[str, Any] | None = None,
) -> LoginOut:
    """A new session under the tenant's session settings; the oldest ends past the concurrent limit."""
    actor = Principal(
        tenant_id=user.tenant_id, user_id=user.user_id, role=user.role, permissions=frozenset(), meta=meta
    )
    change = change or Change(actor)
    cfg = settings.sessions
    live = sorted(
        (
            s
            for s in sessions.for_user(user.tenant_id, user.user_id)
            if sessions.is_live(s) and not s.get("actor_id")
        ),
        key=lambda s: (int(s["created_at"]), s["session_id"]),
    )
    session_id = ids.new_id("ses")
    flags = suspicious.on_login(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        session_id=session_id,
        meta=meta,
        allow=settings.ip_allowlist,
        places=places,
        live_sessions=live,
    )
    excess = live[: max(0, len(live) - cfg.max_concurrent + 1)]
    for old in excess:
        sessions.end(change.tx, old)
        change.audit(
            "session.terminate",
            event_type="session_terminated",
            target_type="session",
            target_id=old["session_id"],
            details={"reason": "max_concurrent_sessions", "user_id": user.user_id},
        )
    new = sessions.start(
        change.tx,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        role=user.role,
        meta=meta,
        absolute_seconds=REMEMBER_ME_SECONDS if remember_me else cfg.max_duration_minutes * 60,
        idle_seconds=cfg.idle_timeout_minutes * 60,
        extra={"flags": flags or None},
        session_id=session_id,
    )
    now = clock.iso()
    users.for_tenant(user.tenant_id).set_last_login(change.tx, user.user_id, now)
    if clear_failures:
        lockout.clear(change.tx, clear_failures)
    change.audit(
        "auth.login",
        event_type="login",
        target_type="session",
        target_id=new.session_id,
        details={**(details or {}), **({"suspicious": flags} if flags else {})},
    )
    change.commit()
    user.last_login_at = now
    return LoginOut(
        token=new.token,
        session_id=new.session_id,
        expires_at=new.expires_at,
        idle_expires_at=new.idle_expires_at,
        user=UserOut.of(user),
        suspicious=flags,
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
    user = users.for_tenant(principal.tenant_id).get(principal.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise KeelError(ErrorCode.AUTH_004, "Session expired or invalid")
    change = Change(principal)
    sessions.end(change.tx, item)
    keep: dict[str, object] = {
        k: item[k] for k in ("actor_id", "impersonation_id", "scope", "flags", "actor_tenant_id") if k in item
    }
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


def activate(token: str, password: str, meta: RequestMeta) -> LoginOut:
    """Confirms the e-mail from the activation link, sets the password and signs the user in."""
    change = Change(Principal.system())
    link = links.redeem(change.tx, token, links.ACTIVATION)
    validate_new(password, tenant_id=link["tenant_id"], user_id=link["user_id"])
    user = users.for_tenant(link["tenant_id"]).get(link["user_id"], consistent=True)
    if user is None or user.status is not UserStatus.PENDING_ACTIVATION:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    actor = Principal(
        tenant_id=user.tenant_id, user_id=user.user_id, role=user.role, permissions=frozenset(), meta=meta
    )
    change.principal = actor
    now = clock.iso()
    users.for_tenant(user.tenant_id).claim_email(change.tx, user)
    users.for_tenant(user.tenant_id).move_status(  # the list indexes follow
        change.tx,
        user,
        UserStatus.ACTIVE,
        fields={
            "email_reserved": True,
            "password_hash": passwords.hash_password(password),
            "password_changed_at": now,
            "updated_at": now,
            "password_strength": passwords.strength(password),
        },
        on_fail=KeelError(ErrorCode.SAAS_011),
    )
    change.audit("auth.activate", event_type="account_activated", target_type="user", target_id=user.user_id)
    change.commit()
    user.status = UserStatus.ACTIVE
    user.password_changed_at = now
    settings = security.get(user.tenant_id)
    return open_session(user, meta, settings, None, remember_me=False)
