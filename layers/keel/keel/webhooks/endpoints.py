"""Endpoints as the workers use them: secrets unsealed, cached per process for a few seconds.

An update (URL, secret, deactivation) reaches the workers within `TTL_SECONDS`; a rotation's
grace period covers the secret, and a message to a deleted or disabled endpoint fails (replayable).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from keel.core import aws, clock, sealing
from keel.webhooks import repo, signing

SECRET_PURPOSE = "webhook-secret"  # noqa: S105 - a sealing purpose, not a secret
TTL_SECONDS = 10.0


@dataclass(frozen=True)
class Endpoint:
    tenant_id: str
    endpoint_id: str
    url: str
    timeout: float
    headers: dict[str, str]
    rate_limit: int | None
    active: bool
    keys: tuple[bytes, ...]  # newest first; the previous one while its grace period lasts
    slow_until: str | None
    failing_since: str | None
    failing_warned_at: str | None


def seal(secret: str) -> str:
    return sealing.seal(secret, SECRET_PURPOSE)


def from_item(item: dict[str, Any]) -> Endpoint:
    keys = [signing.key(sealing.unseal(item["secret"], SECRET_PURPOSE))]
    until = item.get("previous_secret_expires_at")
    if item.get("previous_secret") and until and until > clock.iso():
        keys.append(signing.key(sealing.unseal(item["previous_secret"], SECRET_PURPOSE)))
    return Endpoint(
        tenant_id=item["tenant_id"],
        endpoint_id=item["endpoint_id"],
        url=item["url"],
        timeout=float(item.get("timeout_seconds", 15)),
        headers=dict(item.get("headers") or {}),
        rate_limit=item.get("rate_limit"),
        active=bool(item.get("active")),
        keys=tuple(keys),
        slow_until=item.get("slow_until"),
        failing_since=item.get("failing_since"),
        failing_warned_at=item.get("failing_warned_at"),
    )


_cache: dict[tuple[str, str], tuple[float, Endpoint | None]] = {}
_lock = threading.Lock()


def load(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Endpoint | None]:
    """(tenant, endpoint) -> the endpoint (None: deleted); one BatchGetItem for what is not cached."""
    now = time.monotonic()
    out: dict[tuple[str, str], Endpoint | None] = {}
    missing = []
    with _lock:
        for key in wanted:
            hit = _cache.get(key)
            if hit and hit[0] > now:
                out[key] = hit[1]
            else:
                missing.append(key)
    if missing:
        found = repo.get_many([repo.endpoint_key(t, e) for t, e in missing])
        with _lock:
            for t, e in missing:
                item = found.get(repo.endpoint_key(t, e))
                out[(t, e)] = from_item(item) if item else None
                _cache[(t, e)] = (now + TTL_SECONDS, out[(t, e)])
    return out


def remember(ep: Endpoint, **changes: Any) -> None:
    """What this worker just wrote about an endpoint, without reading it back."""
    with _lock:
        hit = _cache.get((ep.tenant_id, ep.endpoint_id))
        if hit and hit[1] is not None:
            _cache[(ep.tenant_id, ep.endpoint_id)] = (hit[0], replace(hit[1], **changes))


def forget(tenant_id: str, endpoint_id: str) -> None:
    with _lock:
        _cache.pop((tenant_id, endpoint_id), None)


def clear() -> None:
    with _lock:
        _cache.clear()


aws.on_reset(clear)
