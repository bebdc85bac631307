"""The table: one low-level client, (de)serialisation, reads, queries and transactions.

Items are plain dicts of Python values; numbers come back as int when whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from keel.core import aws, clock
from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.core.pagination import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_ser = TypeSerializer()
_de = TypeDeserializer()
MAX_TX_ITEMS = 100


def client() -> DynamoDBClient:
    return aws.client("dynamodb")


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return {_plain(v) for v in value} if value else None
    return value


def _back(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_back(v) for v in value]
    if isinstance(value, set):
        return {_back(v) for v in value}
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(_plain(v)) for k, v in item.items() if v is not None and v != set()}


def deserialize(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _back(_de.deserialize(v)) for k, v in raw.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def expired(item: Mapping[str, Any] | None) -> bool:
    """TTL reaping is lazy (and absent in moto): an item past `expires_at` does not exist."""
    return item is not None and "expires_at" in item and int(item["expires_at"]) <= clock.epoch()


def table_name() -> str:
    return settings().table_name


def get(pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
    resp = client().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=consistent)
    raw = resp.get("Item")
    item = deserialize(raw) if raw else None
    return None if expired(item) else item


@dataclass
class QueryPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def query(
    pk: str,
    *,
    index: str | None = None,
    sk_prefix: str | None = None,
    sk_between: tuple[str, str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
    newest_first: bool = False,
    filter_expression: str | None = None,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    consistent: bool = False,
    projection: str | None = None,
) -> QueryPage:
    """One Query call: one page of a partition (of the table or of a GSI); `projection` (names
    through `names`) reads only those attributes."""
    pk_attr, sk_attr = (f"{index}PK", f"{index}SK") if index else ("PK", "SK")
    expr_names = {"#pk": pk_attr, **(names or {})}
    expr_values: dict[str, Any] = {":pk": pk, **(values or {})}
    condition = "#pk = :pk"
    if sk_prefix is not None:
        expr_names["#sk"] = sk_attr
        expr_values[":skp"] = sk_prefix
        condition += " AND begins_with(#sk, :skp)"
    elif sk_between is not None:
        expr_names["#sk"] = sk_attr
        expr_values[":lo"], expr_values[":hi"] = sk_between
        condition += " AND #sk BETWEEN :lo AND :hi"
    partition = f"{index or 'table'}:{pk}:{sk_prefix or ''}:{filter_expression or ''}"
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": expr_names,
        "ExpressionAttributeValues": serialize(expr_values),
        "Limit": limit,
        "ScanIndexForward": not newest_first,
    }
    if index:
        kwargs["IndexName"] = index
    if consistent:
        kwargs["ConsistentRead"] = True
    if filter_expression:
        kwargs["FilterExpression"] = filter_expression
    if projection:
        kwargs["ProjectionExpression"] = projection
    start = decode_cursor(cursor, partition)
    if start:
        kwargs["ExclusiveStartKey"] = serialize(start)
    resp = client().query(**kwargs)
    items = [deserialize(i) for i in resp.get("Items", [])]
    last = resp.get("LastEvaluatedKey")
    return QueryPage(
        items=[i for i in items if not expired(i)],
        next_cursor=encode_cursor(deserialize(last) if last else None, partition),
    )


def query_all(
    pk: str,
    *,
    index: str | None = None,
    sk_prefix: str | None = None,
    consistent: bool = False,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    page_size: int = 200,
) -> Iterator[dict[str, Any]]:
    """Every item of a partition, page after page (for internal sweeps, not for API listings)."""
    cursor: str | None = None
    while True:
        page = query(
            pk,
            index=index,
            sk_prefix=sk_prefix,
            limit=page_size,
            cursor=cursor,
            consistent=consistent,
            projection=projection,
            names=names,
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def put(item: Mapping[str, Any], *, condition: str | None = None, on_fail: KeelError | None = None) -> None:
    kwargs: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if condition:
        kwargs["ConditionExpression"] = condition
    try:
        client().put_item(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise on_fail or KeelError(ErrorCode.SAAS_011) from exc
        raise


def update(
    pk: str,
    sk: str,
    expression: str,
    *,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
    on_fail: KeelError | None = None,
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "Key": key(pk, sk),
        "UpdateExpression": expression,
        "ReturnValues": "ALL_NEW",
    }
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = serialize(values)
    if condition:
        kwargs["ConditionExpression"] = condition
    try:
        resp = client().update_item(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise on_fail or KeelError(ErrorCode.SAAS_011) from exc
        raise
    return deserialize(resp.get("Attributes", {}))


def take_up_to(pk: str, sk: str, want: int, limit: int, *, sets: Mapping[str, Any], tries: int = 3) -> int:
    """Adds up to `want` to the item's `taken` counter, never past `limit`, whoever else adds.

    One conditional ADD (with `sets`, e.g. the item's entity and TTL); refused, the count is read
    from the refusal (`ReturnValuesOnConditionCheckFailure`) and what is left is asked for, a few
    times (others may be taking too). Returns how many were taken (0 when none is left).
    """
    want = min(want, limit)
    names = {f"#s{n}": k for n, k in enumerate(sets)}
    assignments = ", ".join(f"#s{n} = :s{n}" for n in range(len(sets)))
    for _ in range(tries):
        if want <= 0:
            return 0
        values = {":k": want, ":room": limit - want, **{f":s{n}": v for n, v in enumerate(sets.values())}}
        request: dict[str, Any] = {
            "TableName": table_name(),
            "Key": key(pk, sk),
            "UpdateExpression": "ADD taken :k" + (f" SET {assignments}" if sets else ""),
            "ConditionExpression": "attribute_not_exists(taken) OR taken <= :room",
            "ExpressionAttributeValues": serialize(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            client().update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            want = limit - int(deserialize(old).get("taken", limit))
            continue
        return want
    return 0


def delete(pk: str, sk: str) -> None:
    client().delete_item(TableName=table_name(), Key=key(pk, sk))


def batch_get(keys: list[tuple[str, str]], *, consistent: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = [key(pk, sk) for pk, sk in keys]
    while pending:
        chunk, pending = pending[:100], pending[100:]
        request: dict[str, Any] = {table_name(): {"Keys": chunk, "ConsistentRead": consistent}}
        while request:
            resp = client().batch_get_item(RequestItems=request)
            out.extend(deserialize(i) for i in resp.get("Responses", {}).get(table_name(), []))
            request = dict(resp.get("UnprocessedKeys") or {})
    return [i for i in out if not expired(i)]


@dataclass
class Tx:
    """Writes that succeed or fail together (one TransactWriteItems call).

    Each write may name the error to raise when its condition fails.
    """

    ops: list[dict[str, Any]] = field(default_factory=list)
    errors: list[KeelError | None] = field(default_factory=list)

    def _add(self, op: dict[str, Any], on_fail: KeelError | None) -> None:
        self.ops.append(op)
        self.errors.append(on_fail)

    @staticmethod
    def _cond(body: dict[str, Any], condition: str | None, names: dict[str, str] | None, values: Any) -> None:
        if condition:
            body["ConditionExpression"] = condition
        if names:
            body["ExpressionAttributeNames"] = {**body.get("ExpressionAttributeNames", {}), **names}
        if values:
            body["ExpressionAttributeValues"] = {
                **body.get("ExpressionAttributeValues", {}),
                **serialize(values),
            }

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_fail: KeelError | None = None,
    ) -> Tx:
        body: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
        self._cond(body, condition, names, values)
        self._add({"Put": body}, on_fail)
        return self

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_fail: KeelError | None = None,
    ) -> Tx:
        body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk), "UpdateExpression": expression}
        self._cond(body, condition, names, values)
        self._add({"Update": body}, on_fail)
        return self

    def change(
        self,
        pk: str,
        sk: str,
        changes: Mapping[str, Any],
        *,
        remove: Iterable[str] = (),
        missing: KeelError | None = None,
    ) -> Tx:
        """SETs `changes` (and REMOVEs `remove`) on an item that must exist: `missing` is raised
        (or SAAS_011) when it does not. The repos' one way to edit an existing item's fields."""
        from keel.store.expressions import updates

        upd = updates(changes, remove=remove)
        return self.update(
            pk,
            sk,
            upd.expression,
            names=upd.names,
            values=upd.values,
            condition="attribute_exists(PK)",
            on_fail=missing,
        )

    def delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_fail: KeelError | None = None,
    ) -> Tx:
        body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk)}
        self._cond(body, condition, names, values)
        self._add({"Delete": body}, on_fail)
        return self

    def check(
        self,
        pk: str,
        sk: str,
        condition: str,
        *,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        on_fail: KeelError | None = None,
    ) -> Tx:
        body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk)}
        self._cond(body, condition, names, values)
        self._add({"ConditionCheck": body}, on_fail)
        return self

    def commit(self) -> None:
        if not self.ops:
            return
        if len(self.ops) > MAX_TX_ITEMS:
            raise KeelError(ErrorCode.API_008, "Too many writes for one transaction")
        try:
            client().transact_write_items(TransactItems=self.ops)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise (self.errors[index] or KeelError(ErrorCode.SAAS_011)) from exc
            raise KeelError(ErrorCode.SAAS_011, "Concurrent change; retry") from exc


def commit_each(units: list[Tx]) -> list[Exception | None]:
    """Commits independent units of writes, each all or nothing, in as few calls as fit.

    Consecutive units are packed into one TransactWriteItems of up to 100 items. When a packed
    transaction is refused (one unit's condition, a throttle), its units are committed one by one,
    so each succeeds or fails alone. Returns, per unit, None or the error that refused it.
    """
    from botocore.exceptions import BotoCoreError

    results: list[Exception | None] = [None] * len(units)
    pack: list[int] = []

    def flush() -> None:
        if not pack:
            return
        together = Tx()
        for i in pack:
            together.ops += units[i].ops
            together.errors += units[i].errors
        try:
            together.commit()
        except (KeelError, BotoCoreError, ClientError) as exc:
            if len(pack) == 1:
                results[pack[0]] = exc
            else:
                for i in pack:
                    try:
                        units[i].commit()
                    except (KeelError, BotoCoreError, ClientError) as alone:
                        results[i] = alone
        pack.clear()

    size = 0
    for index, unit in enumerate(units):
        if size + len(unit.ops) > MAX_TX_ITEMS:
            flush()
            size = 0
        pack.append(index)
        size += len(unit.ops)
    flush()
    return results
