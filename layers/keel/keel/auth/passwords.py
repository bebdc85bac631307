"""Argon2id hashing (argon2-cffi) and the baseline password rules (NIST SP 800-63B rev. 4)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from keel.core.config import settings
from keel.core.errors import invalid

MIN_LENGTH = 8
MAX_LENGTH = 128  # no truncation below this; longer is refused, not cut


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    s = settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=1)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash, so unknown accounts take as long."""
    try:
        return hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("keel-dummy-password-for-timing")


def validate_new(
    password: str, *, tenant_id: str, user_id: str | None = None, field: str = "password"
) -> None:
    """Every new password goes through here: the baseline rules, then the tenant's policy.

    Raises 422 API_007 naming the broken rule.
    """
    del tenant_id, user_id  # the tenant's policy and the user's history apply here (identity work)
    check_baseline(password, field)


def check_baseline(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise invalid(field, f"Password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise invalid(field, f"Password must have at most {MAX_LENGTH} characters")
