"""Standard Webhooks signatures (https://www.standardwebhooks.com).

The signed content is `"{webhook-id}.{webhook-timestamp}.{body}"`, HMAC-SHA256 keyed with the
base64-decoded bytes after `whsec_`; `webhook-signature` is `v1,<base64>`, several of them
space-separated while a rotated secret's grace period lasts. Receivers verify with the
`standardwebhooks` or `svix` packages (the tests do).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec allows 24 to 64


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(signing_key: bytes, msg_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(signing_key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(keys: list[bytes], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three headers of one message, signed with every current key (newest first)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(k, msg_id, timestamp, body) for k in keys),
    }
