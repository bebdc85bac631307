"""Argon2id hashing (argon2-cffi) and the rules a password meets on its own.

Baseline (NIST SP 800-63B rev. 4): at least 8 characters, up to 128 accepted and never truncated,
not on the common-password list shipped with the code (`common_passwords.txt`); the tenant's
policy (length, optional complexity). The flow every new password goes through (these, then the
user's history) is `keel.auth.passwords.validate_new`.
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
    text = resources.files("keel.identity").joinpath("common_passwords.txt").read_text()
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


def broken_rule(field: str, rule: str, message: str) -> Exception:
    exc = invalid(field, message)
    assert exc.details is not None
    exc.details[0]["rule"] = rule
    return exc


def check_baseline(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise broken_rule(field, "min_length", f"Password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise broken_rule(field, "max_length", f"Password must have at most {MAX_LENGTH} characters")
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise broken_rule(field, "common", "This password is too common; choose another")


def check_policy(password: str, policy: PasswordPolicy, field: str = "password") -> None:
    if len(password) < policy.min_length:
        raise broken_rule(field, "min_length", f"Password must have at least {policy.min_length} characters")
    have = set(classes(password))
    for cls, wanted in (
        ("upper", policy.require_upper),
        ("lower", policy.require_lower),
        ("digit", policy.require_digit),
        ("symbol", policy.require_symbol),
    ):
        if wanted and cls not in have:
            raise broken_rule(field, f"require_{cls}", f"Password must contain a {cls} character")
