"""Second factors: TOTP (pyotp, RFC 6238), SMS (Twilio) and e-mail codes, backup codes.

State lives under the user: `USER#<id>#MFA#<method>` (confirmed), `...#MFA#PENDING#<method>`
(enrolment in progress), `...#MFA#BACKUP` (hashes of the current backup codes). A TOTP code is
accepted once (the last used time step is kept, with a condition); SMS and e-mail codes are
stored hashed and expire in 10 minutes; each challenge or enrolment allows 5 wrong codes.
"""

from __future__ import annotations

import secrets
from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.identity import repo
from keel.identity.tokens import code_digest
from keel.store.change import Tx

ISSUER = "Keel"
CODE_SECONDS = 10 * 60
MAX_ATTEMPTS = 5
BACKUP_CODES = 10
TOTP_SEAL = "totp"  # the purpose the TOTP seeds are sealed under (keel.core.sealing)
TOTP = "totp"
SMS = "sms"
EMAIL = "email"
BACKUP = "backup_code"


def wrong_code() -> KeelError:
    return KeelError(ErrorCode.AUTH_006, "Invalid or expired 2FA code")


def too_many() -> KeelError:
    return KeelError(ErrorCode.SAAS_010, "Too many wrong codes; start again", headers={"Retry-After": "60"})


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def otpauth_uri(secret: str, email: str) -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def totp_step(secret: str, code: str) -> int | None:
    """The time step a code belongs to (now, or one step either side), or None."""
    import pyotp

    totp = pyotp.TOTP(secret)
    now = clock.epoch()
    given = code.strip().encode()  # bytes: compare_digest refuses non-ASCII str (found by the fuzzer)
    for offset in (0, -1, 1):
        at = now + offset * totp.interval
        if secrets.compare_digest(totp.at(at).encode(), given):
            return at // totp.interval
    return None


def use_totp(tx: Tx, tenant_id: str, user_id: str, secret: str, code: str, *, sk: str | None = None) -> None:
    """Adds the single use of a TOTP code to `tx` (a code already used fails AUTH_006)."""
    step = totp_step(secret, code)
    if step is None:
        raise wrong_code()
    repo.for_tenant(tenant_id).use_totp_step(tx, user_id, step, wrong_code(), sk=sk)


def code_matches(item: dict[str, Any], code: str) -> bool:
    expected = str(item.get("code_hash") or "")
    fresh = int(item.get("code_expires", 0)) > clock.epoch()
    return bool(expected) and fresh and secrets.compare_digest(expected, code_digest(code.strip()))


def count_attempt(pk: str, sk: str) -> int:
    """A failed-attempt counter (written even though the request is refused)."""
    attempts = repo.count_attempt(pk, sk)
    return MAX_ATTEMPTS if attempts is None else attempts


def new_backup_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(BACKUP_CODES)
    ]


def put_backup_codes(tx: Tx, tenant_id: str, user_id: str, codes: list[str]) -> None:
    repo.for_tenant(tenant_id).put_backup_codes(
        tx, user_id, {code_digest(c, user_id) for c in codes}, clock.iso()
    )


def use_backup_code(tx: Tx, tenant_id: str, user_id: str, code: str) -> None:
    h = code_digest(code.strip().lower(), user_id)
    repo.for_tenant(tenant_id).use_backup_code(tx, user_id, h, wrong_code())


def user_mfa_items(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    return repo.for_tenant(tenant_id).factors(user_id)
