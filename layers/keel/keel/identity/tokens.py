"""Secrets handed to clients are stored only as digests.

High-entropy tokens (sessions, links, challenges) as their SHA-256; short codes a person types
(6-digit codes, backup codes) as an HMAC keyed with the app's signing key from Secrets Manager,
so a copy of the table alone does not let anyone try the small code space offline.
"""

from __future__ import annotations

import hashlib
import hmac

from keel.core.errors import ErrorCode, KeelError
from keel.core.secrets import app_secret


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def code_digest(code: str, context: str = "") -> str:
    key = str(app_secret().get("signing_key") or "")
    if not key:
        raise KeelError(ErrorCode.API_008, "The signing key is not configured")
    return hmac.new(key.encode(), f"{context}:{code}".encode(), hashlib.sha256).hexdigest()
