"""Who a send reaches: a whole tenant, some roles, listed users, or (platform staff) tenants and plans.

Yields chunks of (tenant, user ids), active users only, so the fan-out can queue them in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from keel.core.principal import PLATFORM_TENANT

CHUNK = 100


def _tenants(audience: dict[str, Any], sender_tenant: str) -> list[str]:
    kind = audience["kind"]
    if sender_tenant != PLATFORM_TENANT or kind not in {"tenant", "plan"}:
        return [sender_tenant]
    from keel.tenants import repo as tenants

    if kind == "tenant":
        return list(audience.get("tenant_ids") or [])
    plans, found, cursor = set(audience.get("plans") or []), [], None
    while True:
        page, cursor = tenants.page(200, cursor)
        found += [t.tenant_id for t in page if t.plan in plans and t.tenant_id != PLATFORM_TENANT]
        if not cursor:
            return found


def chunks(audience: dict[str, Any], sender_tenant: str) -> Iterator[tuple[str, list[str]]]:
    from keel.users import repo as users
    from keel.users.models import UserStatus

    roles = set(audience.get("roles") or [])
    for tenant_id in _tenants(audience, sender_tenant):
        repo = users.for_tenant(tenant_id)
        if audience["kind"] == "users":
            wanted = list(dict.fromkeys(audience.get("user_ids") or []))
            for start in range(0, len(wanted), CHUNK):
                found = repo.get_many(wanted[start : start + CHUNK])
                ids = [u for u, user in found.items() if user.status == UserStatus.ACTIVE]
                if ids:
                    yield tenant_id, ids
            continue
        batch: list[str] = []
        for user_id in repo.active_ids(roles):
            batch.append(user_id)
            if len(batch) == CHUNK:
                yield tenant_id, batch
                batch = []
        if batch:
            yield tenant_id, batch
