"""Channel credentials: one Secrets Manager secret per tenant and channel, never in the table,
a response or a log. The table records only that they are set."""

from __future__ import annotations

import json
import time
from typing import Any

from keel.core import aws
from keel.core.config import settings

TTL_SECONDS = 300
_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}


def name(tenant_id: str, channel: str) -> str:
    return f"keel/{settings().stage}/notify/{tenant_id}/{channel}"


def store(tenant_id: str, channel: str, credentials: dict[str, str]) -> None:
    client = aws.client("secretsmanager")
    value = json.dumps(credentials)
    try:
        client.put_secret_value(SecretId=name(tenant_id, channel), SecretString=value)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(
            Name=name(tenant_id, channel),
            SecretString=value,
            Description="Keel notification channel credentials",
        )
    _cache.pop((tenant_id, channel), None)


def read(tenant_id: str, channel: str) -> dict[str, str]:
    """The channel's credentials ({} when none), cached for five minutes per process."""
    key = (tenant_id, channel)
    cached = _cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    client = aws.client("secretsmanager")
    try:
        raw: Any = client.get_secret_value(SecretId=name(tenant_id, channel)).get("SecretString") or "{}"
        found = json.loads(raw)
    except client.exceptions.ResourceNotFoundException:
        found = {}
    value = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
    if len(_cache) > 1000:
        _cache.clear()
    _cache[key] = (time.monotonic() + TTL_SECONDS, value)
    return value


aws.on_reset(_cache.clear)
