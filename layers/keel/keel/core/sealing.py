"""Secrets we must read back (TOTP seeds) are stored sealed: AES-256-GCM, keyed per purpose from the
signing key in Secrets Manager. A copy of the table alone does not reveal them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from keel.core.errors import ErrorCode, KeelError
from keel.core.secrets import app_secret

VERSION = "v1"


def _key(purpose: str) -> bytes:
    signing = str(app_secret().get("signing_key") or "")
    if not signing:
        raise KeelError(ErrorCode.API_008, "The signing key is not configured")
    return hmac.new(signing.encode(), f"seal:{purpose}".encode(), hashlib.sha256).digest()


def seal(plaintext: str, purpose: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_key(purpose)).encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(value: str, purpose: str) -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, body = value.partition(":")
    if version != VERSION or not body:
        raise KeelError(ErrorCode.API_008, "Unreadable sealed value")
    raw = base64.urlsafe_b64decode(body.encode())
    try:
        return AESGCM(_key(purpose)).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except InvalidTag as exc:
        raise KeelError(ErrorCode.API_008, "Unreadable sealed value") from exc
