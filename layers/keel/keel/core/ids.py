"""Sortable ids: 48-bit millisecond time + 80 random bits, Crockford base32 (ULID layout)."""

from __future__ import annotations

import secrets

from keel.core import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int) -> str:
    out = []
    for _ in range(26):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def ulid() -> str:
    ms = int(clock.now().timestamp() * 1000)
    return _encode((ms << 80) | secrets.randbits(80))


def new_id(prefix: str) -> str:
    """A prefixed id such as `ten_01J…`; the prefix says what it names."""
    return f"{prefix}_{ulid()}"


def token(nbytes: int = 32) -> str:
    """An opaque secret for sessions, links and codes (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def ulid_bound(ms: int, *, upper: bool) -> str:
    """The smallest (or largest) ULID of a millisecond: turns a time range into a key range."""
    return _encode((ms << 80) | ((1 << 80) - 1 if upper else 0))
