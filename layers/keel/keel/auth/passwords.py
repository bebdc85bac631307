"""Argon2id hashing (argon2-cffi) and the rules every new password meets.

Baseline (NIST SP 800-63B rev. 4): at least 8 characters, up to 128 accepted and never truncated,
not on the common-password list shipped with the code (`common_passwords.txt`). Then the tenant's
policy (length, optional complexity) and the user's history (the last N hashes).
"""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from keel.core.config import settings
from keel.core.errors import invalid

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from keel.security.models import PasswordPolicy
    from keel.store.change import Tx

MIN_LENGTH = 8
MAX_LENGTH = 128  # no truncation below this; longer is refused, not cut


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    from argon2 import PasswordHasher  # loaded by the first hash or check, not at import

    s = settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=1)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash, so unknown accounts take as long."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("keel-dummy-password-for-timing")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("keel.auth").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def classes(password: str) -> list[str]:
    """Which character classes a password uses (kept with the user to preview policy changes)."""
    found = []
    if any(c.isupper() for c in password):
        found.append("upper")
    if any(c.islower() for c in password):
        found.append("lower")
    if any(c.isdigit() for c in password):
        found.append("digit")
    if any(not c.isalnum() and c not in string.whitespace for c in password):
        found.append("symbol")
    return found


def strength(password: str) -> dict[str, Any]:
    """What the preview of a policy needs: the length and the classes, never the password."""
    return {"length": len(password), "classes": classes(password)}


def validate_new(
    password: str, *, tenant_id: str, user_id: str | None = None, field: str = "password"
) -> None:
    """Every new password goes through here: the baseline rules, the tenant's policy, the history.

    Raises 422 API_007 naming the broken rule in `details[0].rule`.
    """
    from keel.security import repo as security

    check_baseline(password, field)
    check_policy(password, security.get(tenant_id).password_policy, field)
    if user_id is not None:
        check_history(password, tenant_id=tenant_id, user_id=user_id, field=field)


def _broken(field: str, rule: str, message: str) -> Exception:
    exc = invalid(field, message)
    assert exc.details is not None
    exc.details[0]["rule"] = rule
    return exc


def check_baseline(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise _broken(field, "min_length", f"Password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise _broken(field, "max_length", f"Password must have at most {MAX_LENGTH} characters")
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise _broken(field, "common", "This password is too common; choose another")


def check_policy(password: str, policy: PasswordPolicy, field: str = "password") -> None:
    if len(password) < policy.min_length:
        raise _broken(field, "min_length", f"Password must have at least {policy.min_length} characters")
    have = set(classes(password))
    for cls, wanted in (
        ("upper", policy.require_upper),
        ("lower", policy.require_lower),
        ("digit", policy.require_digit),
        ("symbol", policy.require_symbol),
    ):
        if wanted and cls not in have:
            raise _broken(field, f"require_{cls}", f"Password must contain a {cls} character")


def history_hashes(tenant_id: str, user_id: str) -> list[str]:
    from keel.auth import repo

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
        if verify(old, password):
            raise _broken(field, "history", f"Password was used recently (last {depth} cannot be reused)")


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
    from keel.auth import repo
    from keel.core import clock
    from keel.users import repo as users

    new_hash = hash_password(new_password)
    now = clock.iso()
    fields: dict[str, Any] = {
        "password_hash": new_hash,
        "password_changed_at": now,
        "updated_at": now,
        "password_strength": strength(new_password),
    }
    if must_change:
        fields["must_change_password"] = True
    remove = () if must_change else ("must_change_password",)
    users.for_tenant(tenant_id).set_fields(tx, user_id, fields, remove=remove)
    if old_hash:
        hashes = [old_hash, *history_hashes(tenant_id, user_id)][:keep]
        repo.for_tenant(tenant_id).put_password_history(tx, user_id, hashes)
    return new_hash
