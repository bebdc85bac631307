"""moto's transactions, journaled (infra/local/transactions.py): same answers, no table copy.

A refused transaction leaves the items, the stream and the table object as they were; an accepted
one applies every write and its stream records. What DynamoDB does, which the pipeline relies on.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.stack import Stack


def _backend_table(stack: Stack):  # type: ignore[no-untyped-def]
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[stack.table_name]


def _put(name: str, key: str, **attrs: str) -> dict:
    item = {"PK": {"S": "T#x"}, "SK": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
    return {"Put": {"TableName": name, "Item": item}}


def test_a_refused_transaction_leaves_items_stream_and_table_as_they_were(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    name = stack.table_name
    ddb.put_item(TableName=name, Item={"PK": {"S": "T#x"}, "SK": {"S": "A"}, "v": {"S": "1"}})
    ddb.put_item(TableName=name, Item={"PK": {"S": "T#x"}, "SK": {"S": "C"}, "v": {"S": "1"}})
    table = _backend_table(stack)
    records = len(table.stream_shard.items)

    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"PK": {"S": "T#x"}, "SK": {"S": "A"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "2"}},
                    }
                },
                _put(name, "B", v="new"),
                {
                    "Put": {
                        **_put(name, "C", v="2")["Put"],
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    got = ddb.get_item(TableName=name, Key={"PK": {"S": "T#x"}, "SK": {"S": "A"}})["Item"]
    assert got["v"] == {"S": "1"}
    assert "Item" not in ddb.get_item(TableName=name, Key={"PK": {"S": "T#x"}, "SK": {"S": "B"}})
    assert _backend_table(stack) is table  # not swapped for a copy: stream readers keep reading
    assert len(table.stream_shard.items) == records  # the refused writes left no stream record


def test_an_accepted_transaction_applies_every_write_and_its_stream_records(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    name = stack.table_name
    table = _backend_table(stack)
    records = len(table.stream_shard.items)

    ddb.transact_write_items(TransactItems=[_put(name, "D", v="1"), _put(name, "E", v="1")])

    for key in ("D", "E"):
        assert "Item" in ddb.get_item(TableName=name, Key={"PK": {"S": "T#x"}, "SK": {"S": key}})
    assert [r.record["eventName"] for r in table.stream_shard.items[records:]] == ["INSERT", "INSERT"]
