"""The tenant's security settings: one item, one attribute per section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from keel.core import clock
from keel.core.errors import KeelError
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


def lockout_key(email_hash: str) -> tuple[str, str]:
    return keys.lockout_pk(email_hash), keys.LOCKOUT_SK


def ip_window_key(ip: str | None, window: int) -> tuple[str, str]:
    return keys.ip_failures_pk(ip or "unknown"), keys.ip_failures_window_sk(window)


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


def drop_counter(tx: Tx, key: tuple[str, str]) -> None:
    tx.delete(*key)


def set_fields(key: tuple[str, str], fields: dict[str, Any]) -> None:
    upd = updates(fields)
    table.update(*key, upd.expression, names=upd.names, values=upd.values)


# one tenant's security records --------------------------------------------------------------


class SecurityRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def known_places_key(self, user_id: str) -> tuple[str, str]:
        """The places (IPs, countries, devices) the user signed in from."""
        return self.pk, keys.known_places_sk(user_id)

    def put_known_places(self, tx: Tx, user_id: str, ips: list[str], countries: list[str]) -> None:
        tx.put(
            {
                **dict(zip(("PK", "SK"), self.known_places_key(user_id), strict=True)),
                "entity": "known_places",
                "ips": ips,
                "countries": countries,
            }
        )

    def finding_item(self, fields: dict[str, Any], finding_id: str, user_id: str | None) -> dict[str, Any]:
        """A suspicious-activity finding as stored (indexed by user when it names one)."""
        item = {**fields, "PK": keys.suspicious_pk(self.tenant_id), "SK": finding_id, "entity": "suspicious"}
        if user_id:
            item.update(GSI1PK=keys.suspicious_user_index_pk(self.tenant_id, user_id), GSI1SK=finding_id)
        return item

    def add_impersonation(self, tx: Tx, fields: dict[str, Any]) -> dict[str, Any]:
        item = {
            "PK": self.pk,
            "SK": keys.impersonation_sk(fields["impersonation_id"]),
            "entity": "impersonation",
            **fields,
        }
        tx.put(item, condition="attribute_not_exists(PK)")
        return item

    def end_impersonation(self, tx: Tx, impersonation_id: str, now: str, by: str, on_fail: KeelError) -> None:
        tx.update(
            self.pk,
            keys.impersonation_sk(impersonation_id),
            "SET ended_at = :now, ended_by = :by",
            condition="attribute_not_exists(ended_at)",
            values={":now": now, ":by": by},
            on_fail=on_fail,
        )

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
