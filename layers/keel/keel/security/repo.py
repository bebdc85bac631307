"""The tenant's security settings: one item, one attribute per section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from keel.core import clock
from keel.security.models import SECTIONS, SecuritySettings
from keel.store import keys, table
from keel.store.expressions import Condition, updates
from keel.store.table import Tx


def settings_key(tenant_id: str) -> tuple[str, str]:
    return keys.tenant_pk(tenant_id), keys.SECURITY_SETTINGS_SK


def from_item(item: dict[str, Any] | None) -> SecuritySettings:
    data = {k: v for k, v in (item or {}).items() if k in SECTIONS}
    return SecuritySettings.model_validate(data)


def get(tenant_id: str) -> SecuritySettings:
    return from_item(table.get(*settings_key(tenant_id)))


def put_section(tx: Tx, tenant_id: str, section: str, value: BaseModel, updated_by: str) -> None:
    pk, sk = settings_key(tenant_id)
    tx.update(
        pk,
        sk,
        "SET #s = :v, entity = :e, updated_at = :now, updated_by = :by",
        names={"#s": section},
        values={
            ":v": value.model_dump(mode="json"),
            ":e": "security_settings",
            ":now": clock.iso(),
            ":by": updated_by,
        },
    )


# counters (lockout per login name, throttle per IP, failures per IP in a tenant) ------------


def counter(key: tuple[str, str], *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(*key, consistent=consistent)


def start_counter(key: tuple[str, str], fields: dict[str, Any]) -> None:
    table.put({"PK": key[0], "SK": key[1], **fields})


def add_to_counter(key: tuple[str, str], attr: str, fields: dict[str, Any] | None = None) -> int:
    """Adds one to `attr` (from 0 if absent), setting `fields` too; returns the new count."""
    extra = updates(fields or {})
    sets = ", ".join(("#_c = if_not_exists(#_c, :_zero) + :_one", *extra.sets))
    updated = table.update(
        *key,
        f"SET {sets}",
        names={"#_c": attr, **extra.names},
        values={":_zero": 0, ":_one": 1, **extra.values},
    )
    return int(updated[attr])


def set_fields(key: tuple[str, str], fields: dict[str, Any]) -> None:
    upd = updates(fields)
    table.update(*key, upd.expression, names=upd.names, values=upd.values)


# one tenant's security records --------------------------------------------------------------


class SecurityRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def ip_failures_key(self, ip: str | None) -> tuple[str, str]:
        return self.pk, keys.tenant_ip_failures_sk(ip or "unknown")

    def impersonation(self, impersonation_id: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.impersonation_sk(impersonation_id), consistent=True)

    def impersonations_page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(
            self.pk, sk_prefix=keys.impersonation_sk(""), limit=limit, cursor=cursor, newest_first=True
        )
        return page.items, page.next_cursor

    def findings_page(
        self, where: Condition | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        extra: dict[str, Any] = {}
        if where:
            extra = {"filter_expression": where.expression, "names": where.names, "values": where.values}
        page = table.query(
            keys.suspicious_pk(self.tenant_id), limit=limit, cursor=cursor, newest_first=True, **extra
        )
        return page.items, page.next_cursor


def for_tenant(tenant_id: str) -> SecurityRepo:
    return SecurityRepo(tenant_id)
