"""Enrolling second factors, backup codes, and an admin's reset of a user's 2FA."""

from __future__ import annotations

from keel.auth.models import BackupCodesOut, ConfirmOut, Done, EnrollOut
from keel.auth.recovery import not_impersonating
from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, invalid
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.core.sealing import seal, unseal
from keel.identity import mfa, repo, sessions
from keel.identity.tokens import code_digest
from keel.security import repo as security
from keel.security import sms
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import User
from keel.users.scope import user_in_scope

PENDING_SECONDS = 15 * 60


def enroll(principal: Principal, method: str, phone: str | None) -> EnrollOut:
    principal.require(Permission.PROFILE)
    not_impersonating(principal)
    user = user_in_scope(principal, principal.user_id)
    allowed = [str(m) for m in security.get(user.tenant_id).two_factor.methods]
    if method not in allowed:
        raise invalid("method", f"Your organisation allows: {', '.join(allowed)}")
    expires = clock.epoch() + PENDING_SECONDS
    identity = repo.for_tenant(user.tenant_id)
    item = identity.pending_factor_item(
        user.user_id, method, {"method": method, "attempts": 0, "expires_at": expires}
    )
    change = Change(principal)
    out = EnrollOut(method=method, expires_at=expires)
    if method == mfa.TOTP:
        secret = mfa.new_totp_secret()
        item["secret"] = seal(secret, mfa.TOTP_SEAL)
        out.secret, out.otpauth_uri = secret, mfa.otpauth_uri(secret, user.email)
    elif method == mfa.SMS:
        number = sms.normalise(phone or user.phone or "", "phone") if (phone or user.phone) else None
        if number is None:
            raise invalid("phone", "A phone number is needed for SMS codes")
        code = mfa.new_code()
        item.update(phone=number, code_hash=code_digest(code), code_expires=clock.epoch() + mfa.CODE_SECONDS)
        sms.send(number, f"Your Keel verification code is {code}. It expires in 10 minutes.")
        out.code_sent_to = sms.masked(number)
    else:
        change.emit(
            "auth.two_factor_code",
            {"tenant_id": user.tenant_id, "user_id": user.user_id, "pk": item["PK"], "sk": item["SK"]},
        )
        out.code_sent_to = user.email
    identity.put(change.tx, item)
    change.audit(
        "auth.enroll_2fa",
        event_type="2fa_enrollment_started",
        target_type="user",
        target_id=user.user_id,
        details={"method": method},
    )
    change.commit()
    return out


def confirm(principal: Principal, method: str, code: str) -> ConfirmOut:
    principal.require(Permission.PROFILE)
    not_impersonating(principal)
    user = user_in_scope(principal, principal.user_id)
    (pk, sk), pending = repo.for_tenant(user.tenant_id).pending_factor(user.user_id, method)
    if not pending:
        raise mfa.wrong_code()
    if int(pending.get("attempts", 0)) >= mfa.MAX_ATTEMPTS:
        repo.drop((pk, sk))
        raise mfa.too_many()
    change = Change(principal)
    ok = (
        mfa.totp_step(unseal(pending["secret"], mfa.TOTP_SEAL), code) is not None
        if method == mfa.TOTP
        else mfa.code_matches(pending, code)
    )
    if not ok:
        mfa.count_attempt(pk, sk)
        raise mfa.wrong_code()
    confirmed: dict[str, object] = {"method": method, "confirmed_at": clock.iso()}
    if method == mfa.TOTP:
        step = mfa.totp_step(unseal(pending["secret"], mfa.TOTP_SEAL), code)
        confirmed.update(secret=pending["secret"], last_step=step)
    elif method == mfa.SMS:
        confirmed["phone"] = pending["phone"]
    repo.for_tenant(user.tenant_id).confirm_factor(
        change.tx, (pk, sk), user.user_id, confirmed, mfa.wrong_code()
    )
    methods = sorted({*user.two_factor_methods, method})
    users.for_tenant(user.tenant_id).set_fields(
        change.tx, user.user_id, {"two_factor_methods": methods, "updated_at": clock.iso()}
    )
    codes: list[str] = []
    if not user.two_factor_methods:
        codes = mfa.new_backup_codes()
        mfa.put_backup_codes(change.tx, user.tenant_id, user.user_id, codes)
    ended = sessions.end_all_for_user(change.tx, user.tenant_id, user.user_id, keep=principal.session_id)
    change.emit("auth.two_factor_changed", {"tenant_id": user.tenant_id, "user_id": user.user_id})
    change.audit(
        "auth.confirm_2fa",
        event_type="2fa_enabled",
        target_type="user",
        target_id=user.user_id,
        details={"method": method, "sessions_ended": ended},
    )
    change.commit()
    return ConfirmOut(methods=methods, backup_codes=codes, sessions_ended=ended)


def backup_codes(principal: Principal) -> BackupCodesOut:
    principal.require(Permission.PROFILE)
    not_impersonating(principal)
    user = user_in_scope(principal, principal.user_id)
    if not user.two_factor_methods:
        raise KeelError(ErrorCode.SAAS_011, "Enable a second factor first")
    codes = mfa.new_backup_codes()
    change = Change(principal)
    mfa.put_backup_codes(change.tx, user.tenant_id, user.user_id, codes)
    change.audit(
        "auth.generate_backup_codes",
        event_type="backup_codes_generated",
        target_type="user",
        target_id=user.user_id,
    )
    change.commit()
    return BackupCodesOut(backup_codes=codes)


def reset_user(principal: Principal, user_id: str, tenant_id: str | None = None) -> Done:
    principal.require(Permission.SECURITY_MANAGE)
    not_impersonating(principal)
    user: User = user_in_scope(principal, user_id, tenant_id)
    change = Change(principal)
    repo.IdentityRepo.drop_all(change.tx, mfa.user_mfa_items(user.tenant_id, user.user_id))
    users.for_tenant(user.tenant_id).set_fields(
        change.tx, user.user_id, {"two_factor_methods": [], "updated_at": clock.iso()}
    )
    ended = sessions.end_all_for_user(change.tx, user.tenant_id, user.user_id)
    change.emit("auth.two_factor_changed", {"tenant_id": user.tenant_id, "user_id": user.user_id})
    change.audit(
        "security.reset_user_2fa",
        event_type="2fa_reset",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.user_id,
        details={"sessions_ended": ended},
    )
    change.commit()
    return Done(sessions_ended=ended)
