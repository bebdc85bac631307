"""unlock_user: clears a lockout and the failed-attempt counter."""

from __future__ import annotations

from keel.core.model import Model
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.security import lockout, repo
from keel.store.change import Change
from keel.users.scope import user_in_scope


class UnlockOut(Model):
    user_id: str
    was_locked: bool
    failures_cleared: int


def unlock(principal: Principal, user_id: str, tenant_id: str | None) -> UnlockOut:
    principal.require(Permission.SECURITY_MANAGE)
    user = user_in_scope(principal, user_id, tenant_id)
    item = repo.counter(lockout.lockout_key(user.email), consistent=True)
    change = Change(principal)
    lockout.clear(change.tx, user.email)
    out = UnlockOut(
        user_id=user.user_id,
        was_locked=lockout.locked_until(item) is not None,
        failures_cleared=int((item or {}).get("failures", 0)),
    )
    change.audit(
        "security.unlock_user",
        event_type="account_unlocked",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=user.user_id,
        details=out.model_dump(exclude={"user_id"}),
    )
    change.commit()
    return out
