"""Suspicious-activity detection, run on login (no separate scan).

Signals: failed logins from one IP above the tenant's threshold in its window; a login from an
IP or a country never seen for the user; sessions of one user open from different countries at
once. IPs and CIDRs on the tenant's allowlist are never flagged. Each finding is an item in the
tenant's `SUSPICIOUS` partition and an audit record (`suspicious_activity`, severity warning).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from keel.core import clock, ids
from keel.core.model import Model
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal, RequestMeta
from keel.security import repo
from keel.security.models import IpAllowlist
from keel.store import audit
from keel.store.change import Tx
from keel.store.expressions import equal

Kind = Literal["failed_logins_ip", "new_ip", "new_country", "concurrent_locations"]
KEEP_PLACES = 20


class SuspiciousActivity(Model):
    id: str
    at: str
    tenant_id: str
    kind: Kind
    user_id: str | None = None
    ip: str | None = None
    country: str | None = None
    session_id: str | None = None
    details: dict[str, Any] = {}


def allowlisted(ip: str | None, allow: IpAllowlist) -> bool:
    if not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(entry, strict=False) for entry in allow.entries)


def _finding(
    tenant_id: str, kind: Kind, meta: RequestMeta, user_id: str | None, **details: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    found = SuspiciousActivity(
        id=ids.ulid(),
        at=clock.iso(),
        tenant_id=tenant_id,
        kind=kind,
        user_id=user_id,
        ip=meta.ip,
        country=meta.country,
        session_id=details.pop("session_id", None),
        details=details,
    )
    record = audit.build(
        tenant_id=tenant_id,
        action="security.suspicious_activity",
        event_type="suspicious_activity",
        actor_id=user_id,
        meta=meta,
        target_type="user" if user_id else None,
        target_id=user_id,
        severity="warning",
        details={"kind": kind, **details},
    )
    return repo.for_tenant(tenant_id).finding_item(found.model_dump(), found.id, user_id), audit.item(record)


def on_failed_login(tenant_id: str, user_id: str, meta: RequestMeta, allow: IpAllowlist) -> None:
    """Counts the failure for the IP in the tenant; flags once when the count reaches the threshold."""
    if allowlisted(meta.ip, allow):
        return
    now = clock.epoch()
    window = allow.window_minutes * 60
    key = repo.for_tenant(tenant_id).ip_failures_key(meta.ip)
    item = repo.counter(key)
    if item is None or int(item.get("window_start", 0)) + window <= now:
        count = 1
        repo.start_counter(
            key, {"entity": "ip_failures", "count": 1, "window_start": now, "expires_at": now + window}
        )
    else:
        count = repo.add_to_counter(key, "count")
    if count == allow.failed_login_threshold:
        tx = Tx()
        for entry in _finding(
            tenant_id, "failed_logins_ip", meta, user_id, failures=count, window_minutes=allow.window_minutes
        ):
            tx.put(entry)
        tx.commit()


def on_login(
    tx: Tx,
    *,
    tenant_id: str,
    user_id: str,
    session_id: str,
    meta: RequestMeta,
    allow: IpAllowlist,
    places: dict[str, Any] | None,
    live_sessions: list[dict[str, Any]],
) -> list[str]:
    """Adds findings and the updated known places to `tx`; returns the session's flags."""
    ips = list((places or {}).get("ips", []))
    countries = list((places or {}).get("countries", []))
    flags: list[str] = []
    if not allowlisted(meta.ip, allow):
        if allow.flag_new_ip and ips and meta.ip and meta.ip not in ips:
            flags.append("new_ip")
        if allow.flag_new_country and countries and meta.country and meta.country not in countries:
            flags.append("new_country")
        elsewhere = sorted(
            {s["country"] for s in live_sessions if s.get("country") and s["country"] != meta.country}
        )
        if allow.flag_concurrent_locations and meta.country and elsewhere:
            flags.append("concurrent_locations")
    for flag in flags:
        extra: dict[str, Any] = {"session_id": session_id}
        if flag == "concurrent_locations":
            extra["other_countries"] = sorted(
                {s["country"] for s in live_sessions if s.get("country") and s["country"] != meta.country}
            )
        for entry in _finding(tenant_id, flag, meta, user_id, **extra):  # type: ignore[arg-type]
            tx.put(entry)
    if meta.ip and meta.ip not in ips:
        ips = [meta.ip, *ips][:KEEP_PLACES]
    if meta.country and meta.country not in countries:
        countries = [meta.country, *countries][:KEEP_PLACES]
    repo.for_tenant(tenant_id).put_known_places(tx, user_id, ips, countries)
    return flags


def list_findings(
    principal: Principal,
    *,
    tenant_id: str | None,
    kind: str | None,
    user_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[SuspiciousActivity]:
    principal.require(Permission.SECURITY_READ)
    scoped = principal.tenant_scope(tenant_id)
    found, next_cursor = repo.for_tenant(scoped).findings_page(
        equal({"kind": kind, "user_id": user_id}), limit, cursor
    )
    fields = set(SuspiciousActivity.model_fields)
    return Page[SuspiciousActivity](
        items=[SuspiciousActivity.model_validate({k: v for k, v in i.items() if k in fields}) for i in found],
        next_cursor=next_cursor,
    )
