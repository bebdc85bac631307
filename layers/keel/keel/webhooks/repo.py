"""Webhook endpoints and messages in DynamoDB. The only code that touches them.

- endpoint: `T#<t>` / `WHEP#<endpoint>` (its secrets sealed, never plain);
- message (one per event and endpoint, its attempts inside): `T#<t>#WHMSG` / `<delivery id>`;
  the delivery id starts with the event's ULID, so a time range is a key range;
- a message waiting for its next attempt also sits in the sparse GSI1 partition `WHDUE`
  (`<due>#<tenant>#<delivery>`), which the retry schedule sweeps every minute;
- a rate-limited endpoint's sends per second, shared by every worker instance of both lanes:
  `T#<t>#WHRATE#<endpoint>` / `<epoch second>` (`taken`, TTL a minute later).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.store import keys, table
from keel.store.table import QueryPage, Tx
from keel.webhooks import messages

ENDPOINT = "webhook_endpoint"
MESSAGE = "webhook_message"
RATE = "webhook_rate"
MAX_TX = 100
RATE_KEPT_SECONDS = 60
RATE_TRIES = 3


class WebhookRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)
        self.messages_pk = keys.webhook_messages_pk(tenant_id)

    # endpoints ---------------------------------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        found = table.query_all(self.pk, sk_prefix=keys.WEBHOOK_ENDPOINT_SK_PREFIX)
        return [i for i in found if i.get("entity") == ENDPOINT]

    def endpoint(self, endpoint_id: str) -> dict[str, Any] | None:
        item = table.get(self.pk, keys.webhook_endpoint_sk(endpoint_id), consistent=True)
        return item if item and item.get("entity") == ENDPOINT else None

    def add_endpoint(self, tx: Tx, fields: dict[str, Any]) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.webhook_endpoint_sk(fields["endpoint_id"]),
                "entity": ENDPOINT,
                "tenant_id": self.tenant_id,
                **fields,
            },
            condition="attribute_not_exists(PK)",
        )

    def update_endpoint(
        self, tx: Tx, endpoint_id: str, changes: dict[str, Any], remove: tuple[str, ...] = ()
    ) -> None:
        tx.change(
            self.pk,
            keys.webhook_endpoint_sk(endpoint_id),
            changes,
            remove=remove,
            missing=not_found(Kind.WEBHOOK_ENDPOINT),
        )

    def mark_failing(self, tx: Tx, endpoint_id: str, since: str) -> None:
        """Only the first failure after a success sets it (a concurrent one is refused)."""
        tx.update(
            self.pk,
            keys.webhook_endpoint_sk(endpoint_id),
            "SET failing_since = :s",
            values={":s": since},
            condition="attribute_exists(PK) AND attribute_not_exists(failing_since)",
        )

    def mark_warned(self, tx: Tx, endpoint_id: str, since: str, now: str) -> None:
        tx.update(
            self.pk,
            keys.webhook_endpoint_sk(endpoint_id),
            "SET failing_warned_at = :n",
            values={":n": now, ":s": since},
            condition="failing_since = :s AND attribute_not_exists(failing_warned_at)",
        )

    def disable(self, tx: Tx, endpoint_id: str, reason: str, now: str) -> None:
        tx.update(
            self.pk,
            keys.webhook_endpoint_sk(endpoint_id),
            "SET active = :f, disabled_reason = :r, updated_at = :n",
            values={":f": False, ":r": reason, ":n": now, ":t": True},
            condition="active = :t",
        )

    def recovered(self, endpoint_id: str, since: str) -> None:
        """A success ends a failing streak (if it is still the one that started at `since`)."""
        with contextlib.suppress(KeelError):  # another success ended it first
            table.update(
                self.pk,
                keys.webhook_endpoint_sk(endpoint_id),
                "REMOVE failing_since, failing_warned_at",
                values={":s": since},
                condition="failing_since = :s",
            )

    def set_slow(self, endpoint_id: str, until: str) -> None:
        with contextlib.suppress(KeelError):  # deleted meanwhile
            table.update(
                self.pk,
                keys.webhook_endpoint_sk(endpoint_id),
                "SET slow_until = :u",
                values={":u": until},
                condition="attribute_exists(PK)",
            )

    def delete_endpoint(self, tx: Tx, endpoint_id: str) -> None:
        tx.delete(
            self.pk,
            keys.webhook_endpoint_sk(endpoint_id),
            condition="attribute_exists(PK)",
            on_fail=not_found(Kind.WEBHOOK_ENDPOINT),
        )

    # messages ----------------------------------------------------------------------------------

    def message(self, delivery_id: str) -> dict[str, Any] | None:
        item = table.get(self.messages_pk, delivery_id, consistent=True)
        return item if item and item.get("entity") == MESSAGE else None

    def message_item(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"PK": self.messages_pk, "SK": fields["delivery_id"], "entity": MESSAGE, **fields}

    def add_message(self, fields: dict[str, Any]) -> bool:
        """Once per (event, endpoint): False when the message already exists."""
        try:
            table.put(self.message_item(fields), condition="attribute_not_exists(PK)")
        except KeelError:
            return False
        return True

    def add_message_tx(self, tx: Tx, fields: dict[str, Any]) -> None:
        tx.put(self.message_item(fields), condition="attribute_not_exists(PK)")

    def messages(
        self,
        between: tuple[str, str],
        *,
        limit: int,
        cursor: str | None,
        endpoint_id: str | None = None,
        status: str | None = None,
    ) -> QueryPage:
        filters, names, values = [], {}, {}
        if endpoint_id:
            filters.append("endpoint_id = :ep")
            values[":ep"] = endpoint_id
        if status:
            filters.append("#status = :st")
            names["#status"] = "status"
            values[":st"] = status
        return table.query(
            self.messages_pk,
            sk_between=between,
            limit=limit,
            cursor=cursor,
            newest_first=True,
            filter_expression=" AND ".join(filters) or None,
            names=names or None,
            values=values or None,
        )

    def every_message(self, between: tuple[str, str]) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = table.query(self.messages_pk, sk_between=between, limit=500, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def requeue(self, tx: Tx, delivery_id: str, attempt: int, now: str, queued_until: str) -> None:
        """A finished message gets one more (manual) attempt, numbered `attempt`, due now. The
        message notes the trigger too, so the sweep re-queues a lost job as `manual`."""
        tx.update(
            self.messages_pk,
            delivery_id,
            "SET #st = :p, next_attempt = :a, last_auto = :a, due_at = :now, queued_until = :q, "
            "GSI1PK = :due, GSI1SK = :dsk, updated_at = :now, next_trigger = :manual",
            names={"#st": "status"},
            values={
                ":p": "pending",
                ":a": attempt,
                ":now": now,
                ":q": queued_until,
                ":due": keys.WEBHOOK_DUE_INDEX_PK,
                ":dsk": keys.webhook_due_sk(now, self.tenant_id, delivery_id),
                ":s": "succeeded",
                ":f": "failed",
                ":manual": "manual",
            },
            condition="next_attempt = :a AND #st IN (:s, :f)",
            on_fail=KeelError(ErrorCode.SAAS_011, "The message changed meanwhile; reload it"),
        )


def for_tenant(tenant_id: str) -> WebhookRepo:
    return WebhookRepo(tenant_id)


# the workers' batch reads and writes --------------------------------------------------------


def message_key(tenant_id: str, delivery_id: str) -> tuple[str, str]:
    return keys.webhook_messages_pk(tenant_id), delivery_id


def endpoint_key(tenant_id: str, endpoint_id: str) -> tuple[str, str]:
    return keys.tenant_pk(tenant_id), keys.webhook_endpoint_sk(endpoint_id)


def due_fields(tenant_id: str, delivery_id: str, due_at: str, queued_until: str | None) -> dict[str, Any]:
    """A message waiting for an attempt: in the due index (queued until `queued_until`)."""
    fields = {
        "due_at": due_at,
        "GSI1PK": keys.WEBHOOK_DUE_INDEX_PK,
        "GSI1SK": keys.webhook_due_sk(due_at, tenant_id, delivery_id),
    }
    return fields | ({"queued_until": queued_until} if queued_until else {})


def get_many(item_keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """One BatchGetItem per 100 keys (consistency: eventual; the writes are conditional)."""
    if not item_keys:
        return {}
    return {(i["PK"], i["SK"]): i for i in table.batch_get(list(dict.fromkeys(item_keys)))}


def outcome_update(
    tenant_id: str,
    delivery_id: str,
    attempt: int,
    *,
    status: str,
    entry: dict[str, Any],
    next_attempt: int,
    now: str,
    due_at: str | None = None,
    queued_until: str | None = None,
) -> dict[str, Any]:
    """The write recording one attempt: applied only if that attempt is still the next one. The log
    is a ring of `messages.ATTEMPTS_KEPT` slots (attempt n in slot (n - 1) % size: past the end of
    the list, DynamoDB appends), so no number of retries can grow the item without bound."""
    slot = (attempt - 1) % messages.ATTEMPTS_KEPT
    sets = {
        "#st": ":st",
        **({"attempt_log": ":entry"} if attempt == 1 else {f"attempt_log[{slot}]": ":one"}),
        "next_attempt": ":next",
        "updated_at": ":now",
        "last_status_code": ":code",
        "last_error": ":err",
    }
    values: dict[str, Any] = {
        ":st": status,
        **({":entry": [entry]} if attempt == 1 else {":one": entry}),
        ":next": next_attempt,
        ":now": now,
        ":code": entry.get("status_code") or 0,
        ":err": entry.get("error") or "",
        ":n": attempt,
    }
    removes = ["lease", "next_trigger"]
    if due_at:
        sets |= {"due_at": ":due", "GSI1PK": ":gpk", "GSI1SK": ":gsk"}
        values |= {
            ":due": due_at,
            ":gpk": keys.WEBHOOK_DUE_INDEX_PK,
            ":gsk": keys.webhook_due_sk(due_at, tenant_id, delivery_id),
        }
        if queued_until:
            sets["queued_until"] = ":q"
            values[":q"] = queued_until
        else:
            removes.append("queued_until")
    else:
        removes += ["due_at", "GSI1PK", "GSI1SK", "queued_until"]
    expression = "SET " + ", ".join(f"{k} = {v}" for k, v in sets.items()) + " REMOVE " + ", ".join(removes)
    return {
        "Key": table.key(*message_key(tenant_id, delivery_id)),
        "UpdateExpression": expression,
        "ConditionExpression": "next_attempt = :n",
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": table.serialize(values),
    }


def apply_updates(ops: list[dict[str, Any]]) -> int:
    """The attempts' records, one transaction per 100; a refused chunk is retried one by one
    (a duplicate message already recorded is refused alone). Returns how many were applied."""
    client, name = table.client(), table.table_name()
    applied = 0
    for start in range(0, len(ops), MAX_TX):
        chunk = ops[start : start + MAX_TX]
        try:
            client.transact_write_items(
                TransactItems=[{"Update": {"TableName": name, **op}} for op in chunk]  # type: ignore[typeddict-item]
            )
            applied += len(chunk)
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
        for op in chunk:
            try:
                client.update_item(TableName=name, **op)
                applied += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
    return applied


def take_sends(tenant_id: str, endpoint_id: str, second: int, want: int, limit: int) -> int:
    """Up to `want` of an endpoint's `limit` sends in `second`, whoever else takes some
    (`table.take_up_to`: one conditional ADD, a few when others take too). Returns how many."""
    return table.take_up_to(
        keys.webhook_rate_pk(tenant_id, endpoint_id),
        str(second),
        want,
        limit,
        sets={"entity": RATE, "expires_at": second + RATE_KEPT_SECONDS},
        tries=RATE_TRIES,
    )


def due_messages(now: str, limit: int) -> list[dict[str, Any]]:
    page = table.query(keys.WEBHOOK_DUE_INDEX_PK, index="GSI1", sk_between=("0", f"{now}#~"), limit=limit)
    return page.items


def claim_due(item: dict[str, Any], now: str, queued_until: str) -> bool:
    """The sweep takes a due message once (a message already in a queue is left alone)."""
    try:
        table.update(
            item["PK"],
            item["SK"],
            "SET queued_until = :q",
            values={":q": queued_until, ":n": item["next_attempt"], ":now": now},
            condition="next_attempt = :n AND (attribute_not_exists(queued_until) OR queued_until < :now)",
        )
    except KeelError:
        return False
    return True
