"""Seeding a bench's table fast: one tenant and its users written in batches (no API, no events)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.users.models import User


def tenant_with_users(tenant_id: str, users: list[User], *, searchable: bool = False) -> None:
    """The tenant item, each user with its e-mail reservation (and search entries), BatchWriteItem."""
    from keel.core import clock
    from keel.store import keys, table
    from keel.tenants import repo as tenants
    from keel.tenants.models import Limits, Tenant
    from keel.users import repo

    now = clock.iso()
    table.put(
        tenants.item(
            Tenant(
                tenant_id=tenant_id,
                name="Bench",
                plan="x",
                limits=Limits(max_users=100_000),
                user_count=len(users),
                created_at=now,
                updated_at=now,
            )
        )
    )
    items: list[dict[str, Any]] = []
    for user in users:
        items.append(repo.user_item(user))
        if searchable:
            items.extend(repo.search_entries(user))
        items.append(
            {
                "PK": keys.email_pk(user.email),
                "SK": keys.EMAIL_SK,
                "entity": "email",
                "tenant_id": tenant_id,
                "user_id": user.user_id,
            }
        )
    _batch_put(items)


def _batch_put(items: Iterable[dict[str, Any]]) -> None:
    from keel.store import table

    client, batch = table.client(), list(items)
    for i in range(0, len(batch), 25):
        request: Any = {
            table.table_name(): [{"PutRequest": {"Item": table.serialize(it)}} for it in batch[i : i + 25]]
        }
        while request:
            request = dict(client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {})
