"""The rules every new password meets: its own (`keel.identity.passwords`), then the user's history.

Also the one write of a new password: the hash on the user item, the old one in the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keel.identity import passwords

if TYPE_CHECKING:
    from keel.store.change import Tx


def validate_new(
    password: str, *, tenant_id: str, user_id: str | None = None, field: str = "password"
) -> None:
    """Every new password goes through here: the baseline rules, the tenant's policy, the history.

    Raises 422 API_007 naming the broken rule in `details[0].rule`.
    """
    from keel.security import repo as security

    passwords.check_baseline(password, field)
    passwords.check_policy(password, security.get(tenant_id).password_policy, field)
    if user_id is not None:
        check_history(password, tenant_id=tenant_id, user_id=user_id, field=field)


def history_hashes(tenant_id: str, user_id: str) -> list[str]:
    from keel.identity import repo

    return repo.for_tenant(tenant_id).password_history(user_id)


def check_history(password: str, *, tenant_id: str, user_id: str, field: str = "password") -> None:
    from keel.security import repo as security
    from keel.users import repo as users

    depth = security.get(tenant_id).password_policy.history
    if depth == 0:
        return
    user = users.for_tenant(tenant_id).get(user_id, consistent=True)
    recent = [user.password_hash] if user and user.password_hash else []
    recent += history_hashes(tenant_id, user_id)
    for old in recent[:depth]:
        if passwords.verify(old, password):
            message = f"Password was used recently (last {depth} cannot be reused)"
            raise passwords.broken_rule(field, "history", message)


def record_change(
    tx: Tx,
    *,
    tenant_id: str,
    user_id: str,
    old_hash: str | None,
    new_password: str,
    keep: int = 24,
    must_change: bool = False,
) -> str:
    """Adds the new hash to the user item and the old one to the history, in `tx`; returns the hash.

    Clears `must_change_password` (or sets it: a temporary password); the caller ends sessions and audits.
    """
    from keel.core import clock
    from keel.identity import repo
    from keel.users import repo as users

    new_hash = passwords.hash_password(new_password)
    now = clock.iso()
    fields: dict[str, Any] = {
        "password_hash": new_hash,
        "password_changed_at": now,
        "updated_at": now,
        "password_strength": passwords.strength(new_password),
    }
    if must_change:
        fields["must_change_password"] = True
    remove = () if must_change else ("must_change_password",)
    users.for_tenant(tenant_id).set_fields(tx, user_id, fields, remove=remove)
    if old_hash:
        hashes = [old_hash, *history_hashes(tenant_id, user_id)][:keep]
        repo.for_tenant(tenant_id).put_password_history(tx, user_id, hashes)
    return new_hash
