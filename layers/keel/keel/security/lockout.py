"""Failed logins: per login name (lockout) and per IP (throttle), the same for unknown names.

The counter is keyed by the hash of the e-mail address, so an address with no account counts,
locks and answers exactly like one with an account. A lock lifts itself at `locked_until`;
`unlock_user` deletes the counter.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.identity.tokens import digest
from keel.security import repo
from keel.security.models import PasswordPolicy
from keel.store.change import Tx

IP_WINDOW_SECONDS = 15 * 60
IP_LIMIT = 50  # failed logins from one IP per window before every login from it is throttled
COUNTER_TTL = 24 * 3600


def lockout_key(email: str) -> tuple[str, str]:
    return repo.lockout_key(digest(email.strip().lower()))


def ip_key(ip: str | None) -> tuple[str, str]:
    return repo.ip_window_key(ip, clock.epoch() // IP_WINDOW_SECONDS)


def locked_until(item: dict[str, Any] | None) -> int | None:
    until = int((item or {}).get("locked_until") or 0)
    return until if until > clock.epoch() else None


def locked_error(until: int) -> KeelError:
    return KeelError(
        ErrorCode.AUTH_002,
        "Account locked after too many failed attempts; try again later",
        headers={"Retry-After": str(max(1, until - clock.epoch()))},
    )


def check_ip(item: dict[str, Any] | None) -> None:
    if item and int(item.get("count", 0)) >= IP_LIMIT:
        raise KeelError(
            ErrorCode.SAAS_010, "Too many failed logins from this address", headers={"Retry-After": "900"}
        )


def record_failure(email: str, item: dict[str, Any] | None, policy: PasswordPolicy) -> int | None:
    """Counts one failure; returns the lock's end when this failure locks the account."""
    now = clock.epoch()
    pk, sk = lockout_key(email)
    stale = item is not None and item.get("locked_until") and int(item["locked_until"]) <= now
    if stale or item is None:
        failures = 1
        repo.start_counter((pk, sk), {"entity": "lockout", "failures": 1, "expires_at": now + COUNTER_TTL})
    else:
        failures = repo.add_to_counter((pk, sk), "failures", {"expires_at": now + COUNTER_TTL})
    if failures < policy.lockout_threshold:
        return None
    until = now + policy.lockout_minutes * 60
    repo.set_fields((pk, sk), {"locked_until": until, "expires_at": max(until, now + COUNTER_TTL)})
    return until


def record_ip_failure(ip: str | None) -> None:
    repo.add_to_counter(
        ip_key(ip), "count", {"expires_at": clock.epoch() + IP_WINDOW_SECONDS * 2, "entity": "ip_failures"}
    )


def clear(tx: Tx, email: str) -> None:
    repo.drop_counter(tx, lockout_key(email))
