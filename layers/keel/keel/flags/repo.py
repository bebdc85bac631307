"""Flags in DynamoDB. The only code that touches flag items.

| item | PK | SK |
|---|---|---|
| a flag | `FLAGS` | `FLAG#<key>` |
| the flag set's version (bumped by every change) | `FLAGS` | `VERSION` |
| a flag's history (note + diff per change) | `FLAG#<key>#HISTORY` | `<change_id>` |
| a scheduled change (GSI1 `FLAGS#DUE`/`<run_at>#<id>` while pending) | `FLAG#<key>#SCHEDULE` | `<id>` |
| evaluation counts of one minute (`c#<key>#<variant>` counters) | `FLAGS#METRICS` | `<minute>` |

Flags are platform-wide: no tenant partition. The evaluators' one read per request
(`version_and_tenant`) fetches the version item and the caller's tenant item in one BatchGetItem.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.flags.models import Flag, HistoryEntry, ScheduledChange
from keel.store import keys, table
from keel.store.table import Tx
from keel.tenants import repo as tenants_repo
from keel.tenants.models import Tenant

_FLAG_FIELDS = set(Flag.model_fields)
_CHANGE_FIELDS = set(ScheduledChange.model_fields)
_HISTORY_FIELDS = set(HistoryEntry.model_fields)


def _flag(item: dict[str, Any]) -> Flag:
    return Flag.model_validate({k: v for k, v in item.items() if k in _FLAG_FIELDS})


def _item(flag: Flag) -> dict[str, Any]:
    return {
        "PK": keys.FLAGS_PK,
        "SK": keys.flag_sk(flag.key),
        "entity": "flag",
        **flag.model_dump(mode="json", exclude_none=True),
    }


def get(key: str, *, consistent: bool = False) -> Flag | None:
    item = table.get(keys.FLAGS_PK, keys.flag_sk(key), consistent=consistent)
    return _flag(item) if item else None


def require(key: str) -> Flag:
    found = get(key, consistent=True)
    if found is None:
        raise not_found(Kind.FLAG)
    return found


def page(
    limit: int, cursor: str | None, status: str | None, category: str | None
) -> tuple[list[Flag], str | None]:
    """One Query of the flags partition, filtered by status and category (filters on the page)."""
    filters, names, values = [], {}, {}
    if status:
        filters.append("#st = :st")
        names["#st"], values[":st"] = "status", status
    if category:
        filters.append("#cat = :cat")
        names["#cat"], values[":cat"] = "category", category
    found = table.query(
        keys.FLAGS_PK,
        sk_prefix=keys.FLAG_SK_PREFIX,
        limit=limit,
        cursor=cursor,
        filter_expression=" AND ".join(filters) or None,
        names=names or None,
        values=values or None,
    )
    return [_flag(i) for i in found.items], found.next_cursor


def all_raw() -> list[dict[str, Any]]:
    """Every stored flag as a plain dict (what the evaluators compile): strongly consistent."""
    return [
        i
        for i in table.query_all(keys.FLAGS_PK, sk_prefix=keys.FLAG_SK_PREFIX, consistent=True)
        if i.get("entity") == "flag"
    ]


def add(tx: Tx, flag: Flag) -> None:
    tx.put(
        _item(flag),
        condition="attribute_not_exists(PK)",
        on_fail=KeelError(
            ErrorCode.SAAS_011,
            f"Flag {flag.key!r} already exists",
            details=[{"field": "key", "message": "already exists"}],
        ),
    )


def replace(tx: Tx, flag: Flag, expected_version: int) -> None:
    """The flag's new state, if nobody changed it since it was read (its version)."""
    tx.put(
        _item(flag),
        condition="attribute_exists(PK) AND #v = :expected",
        names={"#v": "version"},
        values={":expected": expected_version},
        on_fail=KeelError(ErrorCode.SAAS_011, "The flag changed meanwhile; reload it and retry"),
    )


def bump_version(tx: Tx) -> None:
    """Every evaluator reloads the flag set on its next request."""
    tx.update(
        keys.FLAGS_PK,
        keys.FLAGS_VERSION_SK,
        "ADD #v :one SET #e = :e, updated_at = :now",
        names={"#v": "version", "#e": "entity"},
        values={":one": 1, ":e": "flag_version", ":now": clock.iso()},
    )


def read_version() -> int:
    item = table.get(keys.FLAGS_PK, keys.FLAGS_VERSION_SK, consistent=True)
    return int(item["version"]) if item else 0


def version_and_tenant(tenant_id: str) -> tuple[int, Tenant | None]:
    """The flag set's version and the caller's tenant (plan, region): one consistent BatchGetItem."""
    tenant_key = tenants_repo.for_tenant(tenant_id).key
    version, tenant = 0, None
    for item in table.batch_get([(keys.FLAGS_PK, keys.FLAGS_VERSION_SK), tenant_key], consistent=True):
        if (item["PK"], item["SK"]) == tenant_key:
            tenant = tenants_repo.from_item(item)
        else:
            version = int(item.get("version", 0))
    return version, tenant


# history ---------------------------------------------------------------------------------------


def add_history(tx: Tx, entry: HistoryEntry) -> None:
    tx.put(
        {
            "PK": keys.flag_history_pk(entry.flag_key),
            "SK": entry.change_id,
            "entity": "flag_history",
            **entry.model_dump(mode="json", exclude_none=True),
        }
    )


def history(key: str, limit: int, cursor: str | None) -> tuple[list[HistoryEntry], str | None]:
    found = table.query(keys.flag_history_pk(key), limit=limit, cursor=cursor, newest_first=True)
    return [
        HistoryEntry.model_validate({k: v for k, v in i.items() if k in _HISTORY_FIELDS}) for i in found.items
    ], found.next_cursor


# scheduled changes -----------------------------------------------------------------------------


def _change(item: dict[str, Any]) -> ScheduledChange:
    return ScheduledChange.model_validate({k: v for k, v in item.items() if k in _CHANGE_FIELDS})


def add_schedule(tx: Tx, change: ScheduledChange) -> None:
    tx.put(
        {
            "PK": keys.flag_schedule_pk(change.flag_key),
            "SK": change.change_id,
            "entity": "flag_schedule",
            "GSI1PK": keys.FLAGS_DUE_PK,
            "GSI1SK": keys.flag_due_sk(change.run_at, change.change_id),
            **change.model_dump(mode="json", exclude_none=True),
        }
    )


def schedules(key: str) -> list[ScheduledChange]:
    return [_change(i) for i in table.query_all(keys.flag_schedule_pk(key))]


def get_schedule(key: str, change_id: str) -> ScheduledChange:
    item = table.get(keys.flag_schedule_pk(key), change_id, consistent=True)
    if not item:
        raise not_found(Kind.FLAG_CHANGE)
    return _change(item)


def close_schedule(tx: Tx, change: ScheduledChange, status: str, error: str | None = None) -> None:
    """Pending -> applied/failed/cancelled, once: a second claim (another run) fails its condition."""
    values: dict[str, Any] = {":new": status, ":pending": "pending", ":at": clock.iso()}
    expression = "SET #st = :new, applied_at = :at REMOVE GSI1PK, GSI1SK"
    if error:
        expression = "SET #st = :new, applied_at = :at, #err = :err REMOVE GSI1PK, GSI1SK"
        values[":err"] = error[:500]
    tx.update(
        keys.flag_schedule_pk(change.flag_key),
        change.change_id,
        expression,
        condition="#st = :pending",
        names={"#st": "status", **({"#err": "error"} if error else {})},
        values=values,
        on_fail=KeelError(ErrorCode.SAAS_022, "The scheduled change is no longer pending"),
    )


def due(now: str, limit: int = 100) -> list[ScheduledChange]:
    """Pending changes whose time has come, oldest first (GSI1; the claim re-checks the item)."""
    found = table.query(keys.FLAGS_DUE_PK, index="GSI1", sk_between=("0", f"{now}#~"), limit=limit)
    return [_change(i) for i in found.items]


# metrics ---------------------------------------------------------------------------------------


def add_counts(minute: str, counts: dict[tuple[str, str], int]) -> None:
    """One UpdateItem: ADD every (flag, variant) counter of one minute bucket."""
    names: dict[str, str] = {"#e": "entity"}
    values: dict[str, Any] = {":e": "flag_metrics"}
    adds = []
    for n, ((key, variant), count) in enumerate(sorted(counts.items())):
        names[f"#c{n}"] = keys.flag_metric_attr(key, variant)
        values[f":c{n}"] = count
        adds.append(f"#c{n} :c{n}")
    table.update(
        keys.FLAG_METRICS_PK, minute, "SET #e = :e ADD " + ", ".join(adds), names=names, values=values
    )


def metric_minutes(start: str, end: str) -> list[dict[str, Any]]:
    return list(_query_between(keys.FLAG_METRICS_PK, start, end))


def _query_between(pk: str, lo: str, hi: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = table.query(pk, sk_between=(lo, hi), limit=200, cursor=cursor)
        out.extend(found.items)
        if not found.next_cursor:
            return out
        cursor = found.next_cursor


def metric_attr_prefix(key: str) -> str:
    return keys.flag_metric_attr(key, "")
