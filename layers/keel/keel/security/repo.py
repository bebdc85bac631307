"""The tenant's security settings: one item, one attribute per section."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from keel.core import clock
from keel.security.models import SECTIONS, SecuritySettings
from keel.store import keys, table
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
