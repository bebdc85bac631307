"""Checkout items in DynamoDB; the only code that touches them (keys in `store/keys.py`).

Per tenant (`T#<tenant>`): the event `EVENT#<city>#EVENT`, its tier counters
`EVENT#<city>#INV#<tier>` (actual_limit, held, sold, remaining, oversold, version), holds
`HOLD#<hold>` and registrations `REG#<city>#<registration>`. The ledger of a city is the partition
`T#<tenant>#LEDGER#<city>`. Every counter change is written here together with its ledger entry,
on the caller's transaction, so the two cannot disagree unless someone edits the table by hand
(which `audit_inventory` finds).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.store import keys, table
from keel.store.expressions import updates
from keel.store.table import QueryPage, Tx

COUNTERS = ("actual_limit", "held", "sold", "remaining")
OPEN_HOLD = "held"


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in item.items()
        if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "entity"}
    }


class CheckoutRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    # events and counters ------------------------------------------------------------------------
    def event_with_counters(self, city_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The event and its tier counters: one Query. Not found if there is no event."""
        page = table.query(self.pk, sk_prefix=keys.event_prefix(city_id), limit=10)
        event: dict[str, Any] | None = None
        counters: dict[str, dict[str, Any]] = {}
        for item in page.items:
            if item.get("entity") == "checkout_event":
                event = _strip(item)
            elif item.get("entity") == "inventory":
                counters[item["tier"]] = _strip(item)
        if event is None:
            raise not_found(Kind.EVENT)
        return event, counters

    def events(self, limit: int, cursor: str | None) -> QueryPage:
        return table.query(
            self.pk,
            sk_prefix=keys.EVENT_SK_PREFIX,
            limit=limit,
            cursor=cursor,
            filter_expression="#entity = :event",
            names={"#entity": "entity"},
            values={":event": "checkout_event"},
        )

    def add_event(self, tx: Tx, event: Mapping[str, Any], counters: Mapping[str, Mapping[str, Any]]) -> None:
        city_id = event["city_id"]
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.event_sk(city_id),
                "entity": "checkout_event",
                # on the retention index until its buyers' contact data is erased
                "GSI1PK": keys.EVENTS_BY_DATE_INDEX_PK,
                "GSI1SK": keys.event_by_date_sk(event["date"], self.tenant_id, city_id),
                **event,
            },
            condition="attribute_not_exists(PK)",
            on_fail=KeelError(
                ErrorCode.SAAS_011,
                f"Event {city_id!r} already exists",
                details=[{"field": "city_id", "message": "already exists"}],
            ),
        )
        for tier, counter in counters.items():
            tx.put(
                {
                    "PK": self.pk,
                    "SK": keys.inventory_sk(city_id, tier),
                    "entity": "inventory",
                    "city_id": city_id,
                    "tier": tier,
                    "version": 1,
                    **counter,
                },
                condition="attribute_not_exists(PK)",
            )

    def update_event(self, tx: Tx, city_id: str, changes: Mapping[str, Any]) -> None:
        if "date" in changes:  # the retention index follows the date
            changes = {**changes, "GSI1SK": keys.event_by_date_sk(changes["date"], self.tenant_id, city_id)}
        tx.change(self.pk, keys.event_sk(city_id), changes, missing=not_found(Kind.EVENT))

    def update_tier_display(self, tx: Tx, city_id: str, tier: str, changes: Mapping[str, Any]) -> None:
        """Public limit and prices: not counters, so no ledger entry."""
        tx.change(self.pk, keys.inventory_sk(city_id, tier), changes, missing=not_found(Kind.EVENT))

    def move_counters(
        self,
        tx: Tx,
        city_id: str,
        tier: str,
        deltas: Mapping[str, int],
        *,
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        on_fail: KeelError | None = None,
        extra: Mapping[str, int] | None = None,
    ) -> None:
        """`SET c = c + :c ...` on the counters (and `extra` ones such as oversold), version + 1."""
        sets, names, vals = ["#version = #version + :one"], {"#version": "version"}, {":one": 1}
        for attr, delta in {**deltas, **(extra or {})}.items():
            if not delta:
                continue
            names[f"#{attr}"] = attr
            vals[f":d_{attr}"] = delta
            sets.append(f"#{attr} = if_not_exists(#{attr}, :zero) + :d_{attr}")
        vals[":zero"] = 0
        cond = "attribute_exists(PK)" + (f" AND ({condition})" if condition else "")
        if condition and "#remaining" in condition:
            names["#remaining"] = "remaining"
        tx.update(
            self.pk,
            keys.inventory_sk(city_id, tier),
            "SET " + ", ".join(sets),
            condition=cond,
            names=names,
            values={**vals, **(values or {})},
            on_fail=on_fail or not_found(Kind.EVENT),
        )

    def remaining(self, city_id: str, tier: str) -> int:
        item = table.get(self.pk, keys.inventory_sk(city_id, tier), consistent=True)
        return int(item.get("remaining", 0)) if item else 0

    def set_counters(
        self, tx: Tx, city_id: str, tier: str, counts: Mapping[str, int], *, version: int, on_fail: KeelError
    ) -> None:
        """Counters set to given values (a correction), if nothing changed them since `version` was read."""
        upd = updates({**counts, "version": version + 1})
        tx.update(
            self.pk,
            keys.inventory_sk(city_id, tier),
            upd.expression,
            names={**upd.names, "#v0": "version"},
            values={**upd.values, ":v0": version},
            condition="#v0 = :v0",
            on_fail=on_fail,
        )

    # the ledger ---------------------------------------------------------------------------------
    def add_ledger(
        self, tx: Tx, city_id: str, tier: str, op: str, quantity: int, deltas: Mapping[str, int], **facts: Any
    ) -> str:
        ledger_id = ids.ulid()
        tx.put(
            {
                "PK": keys.ledger_pk(self.tenant_id, city_id),
                "SK": ledger_id,
                "entity": "inventory_ledger",
                "ledger_id": ledger_id,
                "at": clock.iso(),
                "city_id": city_id,
                "tier": tier,
                "op": op,
                "quantity": quantity,
                "deltas": {k: int(v) for k, v in deltas.items() if v},
                **{k: v for k, v in facts.items() if v is not None},
            }
        )
        return ledger_id

    def ledger(self, city_id: str, limit: int, cursor: str | None, *, newest_first: bool = True) -> QueryPage:
        return table.query(
            keys.ledger_pk(self.tenant_id, city_id), limit=limit, cursor=cursor, newest_first=newest_first
        )

    def whole_ledger(self, city_id: str) -> Iterator[dict[str, Any]]:
        yield from table.query_all(keys.ledger_pk(self.tenant_id, city_id))

    # holds --------------------------------------------------------------------------------------
    def _by_buyer(self, sk: str, email: str | None) -> dict[str, str]:
        """The buyer index entry (GSI2) of an item carrying a buyer's contact data."""
        return {"GSI2PK": keys.buyer_email_index_pk(self.tenant_id, email), "GSI2SK": sk} if email else {}

    def add_hold(self, tx: Tx, hold: Mapping[str, Any]) -> None:
        sk = keys.hold_sk(hold["hold_id"])
        tx.put(
            {
                "PK": self.pk,
                "SK": sk,
                "entity": "hold",
                "status": OPEN_HOLD,
                "GSI1PK": keys.HOLDS_DUE_INDEX_PK,
                "GSI1SK": keys.hold_due_sk(hold["hold_until"], self.tenant_id, hold["hold_id"]),
                **self._by_buyer(sk, hold.get("email")),
                "tenant_id": self.tenant_id,
                **hold,
            },
            condition="attribute_not_exists(PK)",
        )

    def hold(self, hold_id: str) -> dict[str, Any] | None:
        item = table.get(self.pk, keys.hold_sk(hold_id), consistent=True)
        return _strip(item) if item and item.get("entity") == "hold" else None

    def attach_session(self, hold_id: str, session_id: str, url: str) -> None:
        upd = updates({"session_id": session_id, "url": url})
        table.update(
            self.pk,
            keys.hold_sk(hold_id),
            upd.expression,
            names=upd.names,
            values=upd.values,
            condition="attribute_exists(PK)",
        )

    def close_hold(
        self,
        tx: Tx,
        hold_id: str,
        *,
        from_status: str,
        to_status: str,
        on_fail: KeelError,
        due_by_epoch: int | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Moves a hold on from `from_status` (exactly once: the condition is the status), off the
        due index. With `due_by_epoch`, only a hold whose time is up (expiry checked in the
        condition: nothing relies on TTL)."""
        upd = updates(
            {"status": to_status, "closed_at": clock.iso(), **(fields or {})}, remove=["GSI1PK", "GSI1SK"]
        )
        condition = "#status = :from"
        values: dict[str, Any] = {**upd.values, ":from": from_status}
        if due_by_epoch is not None:
            condition += " AND hold_until_epoch <= :now"
            values[":now"] = due_by_epoch
        tx.update(
            self.pk,
            keys.hold_sk(hold_id),
            upd.expression,
            names=upd.names,
            values=values,
            condition=condition,
            on_fail=on_fail,
        )

    # registrations ------------------------------------------------------------------------------
    def add_registration(self, tx: Tx, registration: Mapping[str, Any], on_fail: KeelError) -> None:
        sk = keys.registration_sk(registration["city_id"], registration["registration_id"])
        item: dict[str, Any] = {
            "PK": self.pk,
            "SK": sk,
            "entity": "registration",
            **self._by_buyer(sk, registration.get("email")),
            **registration,
        }
        if registration["status"] == "oversold":
            item.update(
                GSI1PK=keys.oversold_index_pk(self.tenant_id, registration["city_id"]),
                GSI1SK=registration["registration_id"],
            )
        tx.put(item, condition="attribute_not_exists(PK)", on_fail=on_fail)

    def registrations(self, city_id: str, limit: int, cursor: str | None) -> QueryPage:
        return table.query(self.pk, sk_prefix=keys.registration_prefix(city_id), limit=limit, cursor=cursor)

    def oversold(self, city_id: str, limit: int, cursor: str | None) -> QueryPage:
        return table.query(
            keys.oversold_index_pk(self.tenant_id, city_id), index="GSI1", limit=limit, cursor=cursor
        )

    def all_oversold(self, city_id: str) -> Iterator[dict[str, Any]]:
        yield from table.query_all(keys.oversold_index_pk(self.tenant_id, city_id), index="GSI1")

    def registration(self, city_id: str, registration_id: str) -> dict[str, Any] | None:
        item = table.get(self.pk, keys.registration_sk(city_id, registration_id))
        return _strip(item) if item else None

    def mark_notified(self, tx: Tx, city_id: str, registration_id: str, on_fail: KeelError) -> None:
        """The "told" marker: set once (the condition), so a customer is told once however often asked."""
        tx.update(
            self.pk,
            keys.registration_sk(city_id, registration_id),
            "SET notified_at = :now",
            condition="attribute_exists(PK) AND attribute_not_exists(notified_at)",
            values={":now": clock.iso()},
            on_fail=on_fail,
        )

    # buyer data retention ----------------------------------------------------------------------
    def buyer_items(self, city_id: str) -> Iterator[dict[str, Any]]:
        """The city's registrations and holds: the items that carry buyers' contact data."""
        yield from table.query_all(self.pk, sk_prefix=keys.registration_prefix(city_id))
        cursor: str | None = None
        while True:
            page = table.query(
                self.pk,
                sk_prefix=keys.hold_sk(""),
                limit=200,
                cursor=cursor,
                filter_expression="city_id = :city",
                values={":city": city_id},
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def buyer_items_of(self, email: str) -> list[dict[str, Any]]:
        """Every hold and registration of one buyer e-mail (case-folded) still carrying contact data:
        one Query of the buyer index (GSI2), whatever the city."""
        return list(table.query_all(keys.buyer_email_index_pk(self.tenant_id, email), index="GSI2"))

    def erase_buyer_fields(self, tx: Tx, item: Mapping[str, Any], fields: tuple[str, ...], at: str) -> None:
        """The contact fields removed, and the item off the buyer index (GSI2)."""
        names = {f"#f{n}": f for n, f in enumerate(fields)}
        tx.update(
            item["PK"],
            item["SK"],
            f"SET buyer_data_erased_at = :at REMOVE {', '.join(names)}, GSI2PK, GSI2SK",
            names=names,
            values={":at": at},
            condition="attribute_exists(PK)",
        )

    def mark_buyer_data_erased(self, tx: Tx, city_id: str, at: str) -> None:
        """Off the retention index: done (a later run finds nothing to do for this event)."""
        tx.update(
            self.pk,
            keys.event_sk(city_id),
            "SET buyer_data_erased_at = :at REMOVE GSI1PK, GSI1SK",
            values={":at": at},
            condition="attribute_exists(PK)",
        )


def events_held_until(date: str, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, city) of events dated on or before `date` whose buyers' data is still kept."""
    page = table.query(keys.EVENTS_BY_DATE_INDEX_PK, index="GSI1", sk_between=("0", date + "#~"), limit=limit)
    return [(i["PK"].split("#", 1)[1], i["city_id"]) for i in page.items]


def for_tenant(tenant_id: str) -> CheckoutRepo:
    return CheckoutRepo(tenant_id)


def due_holds(now_iso: str, limit: int = 1000) -> list[tuple[str, str]]:
    """(tenant, hold) of open holds whose time is up, oldest first, up to `limit` (the schedule)."""
    out: list[tuple[str, str]] = []
    cursor: str | None = None
    while len(out) < limit:
        page = table.query(
            keys.HOLDS_DUE_INDEX_PK, index="GSI1", sk_between=("0", now_iso + "~"), limit=200, cursor=cursor
        )
        out += [(i["tenant_id"], i["hold_id"]) for i in page.items if i.get("status") == OPEN_HOLD]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return out[:limit]
