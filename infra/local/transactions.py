"""moto's TransactWriteItems without its O(table) backup: the touched items are journaled instead.

moto backs up a transaction by deep-copying the whole table once per item the transaction holds,
and puts the copy back when an item is refused. On a table of 20,000 items that is about 3.5 s per
item of every transaction (DynamoDB's cost does not grow with the table), so a bulk send behind a
large seed measured moto, not Keel; and the swapped table object left stream readers on the
discarded copy (the relay's "deaf" bug, worked around in `pollers.py`).

`install()` keeps moto's own transaction code (conditions, cancellation reasons, unicity) and
changes only the backup: the items the transaction names, and each table's stream length, are
saved before it runs; when moto refuses the transaction they are written back and the stream
records of the refused writes dropped, so readers see no trace of it. The table object is never
replaced. Both the local stack and the test stack install it (the same process serialises
DynamoDB requests, `emulation.serialize_dynamodb`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

_real_deepcopy = copy.deepcopy


@dataclass
class _Saved:
    table: Any
    hash_key: Any
    range_key: Any
    item: Any  # a deep copy of the item before the transaction, or None when it did not exist


class _Journal:
    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.saved: list[_Saved] = []
        self.streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op: Any = next(iter(entry.values()), None)
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto refuses it before writing anything
            key: Any = op.get("Item") if "Item" in op else op.get("Key")
            try:
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError):
                continue  # a malformed key: moto refuses it (validation) before writing it
            current = table.get_item(hash_key, range_key)
            self.saved.append(_Saved(table, hash_key, range_key, _real_deepcopy(current)))
            if table.stream_shard is not None and id(table) not in self.streams:
                self.streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for saved in reversed(self.saved):
            items = saved.table.items
            if saved.range_key is None:
                if saved.item is None:
                    items.pop(saved.hash_key, None)
                else:
                    items[saved.hash_key] = saved.item
            elif saved.item is None:
                items.get(saved.hash_key, {}).pop(saved.range_key, None)
            else:
                items[saved.hash_key][saved.range_key] = saved.item
        for shard, length in self.streams.values():
            del shard.items[length:]


def install() -> None:
    """Journaled transactions for moto's DynamoDB backend (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    backend_class = models.DynamoDBBackend
    if getattr(backend_class, "_keel_journaled", False):
        return
    original = backend_class.transact_write_items

    class _TableKeepingCopy:
        """`copy` as moto's DynamoDB backend module sees it: a table "copied" is the table itself."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else _real_deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal = _Journal(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            journal.restore()
            raise

    models.copy = _TableKeepingCopy()  # type: ignore[assignment]
    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend_class._keel_journaled = True  # type: ignore[attr-defined]
