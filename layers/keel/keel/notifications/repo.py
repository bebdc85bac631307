"""Notification items in DynamoDB: the only code that touches them (see keys.py, "notifications").

Built from the caller's tenant scope: `for_tenant(principal.tenant_scope(...))`. Notifications,
templates, rules, sends and channel settings sit under the tenant's partition; a user's
preferences and inbox under `USER#<user>#...` (exported and erased with the user).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.store import keys, table
from keel.store.table import Tx

INBOX_RETENTION = timedelta(days=180)
NOTIFICATION_RETENTION = timedelta(days=400)


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"PK", "SK", "entity"} and not k.startswith("GSI")}


class NotifyRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    # channels -----------------------------------------------------------------------------

    def channel(self, channel: str) -> dict[str, Any] | None:
        item = table.get(self.pk, keys.notify_channel_sk(channel))
        return _strip(item) if item else None

    def delivery_reads(
        self, others: list[tuple[str, str]], user_ids: list[str], channels: list[str]
    ) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """What deliveries read, together (BatchGetItem, 100 keys a call): other areas' items by the
        keys their repos give (users, the tenant; raw), each user's preferences, the channels' settings."""
        wanted = list(dict.fromkeys(others)) + [(self.pk, keys.notify_channel_sk(c)) for c in channels]
        wanted += [(self.pk, keys.notify_prefs_sk(u)) for u in dict.fromkeys(user_ids)]
        found = {(i["PK"], i["SK"]): i for i in table.batch_get(wanted)}
        prefs = {
            u: _strip(found[(self.pk, keys.notify_prefs_sk(u))])
            for u in user_ids
            if (self.pk, keys.notify_prefs_sk(u)) in found
        }
        configs = {
            c: _strip(found[(self.pk, keys.notify_channel_sk(c))])
            for c in channels
            if (self.pk, keys.notify_channel_sk(c)) in found
        }
        return {k: found[k] for k in others if k in found}, prefs, configs

    def channels(self) -> list[dict[str, Any]]:
        return [_strip(i) for i in table.query_all(self.pk, sk_prefix=keys.NOTIFY_CHANNEL_SK_PREFIX)]

    def put_channel(self, tx: Tx, data: dict[str, Any]) -> None:
        tx.put(
            {"PK": self.pk, "SK": keys.notify_channel_sk(data["channel"]), "entity": "notify_channel", **data}
        )

    # templates ----------------------------------------------------------------------------

    def template(self, template_id: str) -> dict[str, Any]:
        found = table.query(keys.notify_template_index_pk(self.tenant_id, template_id), index="GSI1", limit=1)
        if not found.items:
            raise not_found(Kind.NOTIFICATION_TEMPLATE)
        return _strip(found.items[0])

    def template_for(self, name: str, channel: str, locale: str) -> dict[str, Any] | None:
        """The template of a name for a channel, in the locale or else in English."""
        for wanted in dict.fromkeys((locale, locale.split("-", maxsplit=1)[0], "en")):
            item = table.get(self.pk, keys.notify_template_sk(name, channel, wanted))
            if item:
                return _strip(item)
        return None

    def templates(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(self.pk, sk_prefix=keys.NOTIFY_TEMPLATE_SK_PREFIX, limit=limit, cursor=cursor)
        return [_strip(i) for i in page.items], page.next_cursor

    def template_names(self) -> set[tuple[str, str]]:
        return {
            (i["name"], i["channel"])
            for i in table.query_all(self.pk, sk_prefix=keys.NOTIFY_TEMPLATE_SK_PREFIX)
        }

    def add_template(self, tx: Tx, data: dict[str, Any]) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.notify_template_sk(data["name"], data["channel"], data["locale"]),
                "entity": "notify_template",
                "GSI1PK": keys.notify_template_index_pk(self.tenant_id, data["template_id"]),
                "GSI1SK": "T",
                **data,
            },
            condition="attribute_not_exists(PK)",
            on_fail=KeelError(
                ErrorCode.SAAS_011,
                "A template with this name, channel and locale exists; update it instead",
                details=[{"field": "name", "message": "already exists for this channel and locale"}],
            ),
        )

    def update_template(self, tx: Tx, current: dict[str, Any], changes: dict[str, Any]) -> None:
        tx.change(
            self.pk,
            keys.notify_template_sk(current["name"], current["channel"], current["locale"]),
            changes,
            missing=not_found(Kind.NOTIFICATION_TEMPLATE),
        )

    def delete_template(self, tx: Tx, current: dict[str, Any]) -> None:
        tx.delete(
            self.pk,
            keys.notify_template_sk(current["name"], current["channel"], current["locale"]),
            condition="attribute_exists(PK)",
            on_fail=not_found(Kind.NOTIFICATION_TEMPLATE),
        )

    # rules --------------------------------------------------------------------------------

    def rule(self, rule_id: str) -> dict[str, Any]:
        item = table.get(self.pk, keys.notify_rule_sk(rule_id))
        if not item:
            raise not_found(Kind.NOTIFICATION_RULE)
        return _strip(item)

    def rules(self) -> list[dict[str, Any]]:
        return [_strip(i) for i in table.query_all(self.pk, sk_prefix=keys.NOTIFY_RULE_SK_PREFIX)]

    def add_rule(self, tx: Tx, data: dict[str, Any]) -> None:
        tx.put(
            {"PK": self.pk, "SK": keys.notify_rule_sk(data["rule_id"]), "entity": "notify_rule", **data},
            condition="attribute_not_exists(PK)",
        )

    def update_rule(self, tx: Tx, rule_id: str, changes: dict[str, Any]) -> None:
        tx.change(self.pk, keys.notify_rule_sk(rule_id), changes, missing=not_found(Kind.NOTIFICATION_RULE))

    def delete_rule(self, tx: Tx, rule_id: str) -> None:
        tx.delete(
            self.pk,
            keys.notify_rule_sk(rule_id),
            condition="attribute_exists(PK)",
            on_fail=not_found(Kind.NOTIFICATION_RULE),
        )

    # bulk sends ---------------------------------------------------------------------------

    def send(self, send_id: str) -> dict[str, Any]:
        item = table.get(self.pk, keys.notify_send_sk(send_id), consistent=True)
        if not item:
            raise not_found(Kind.SCHEDULED_NOTIFICATION)
        return _strip(item)

    def add_send(self, tx: Tx, data: dict[str, Any]) -> None:
        item = {"PK": self.pk, "SK": keys.notify_send_sk(data["send_id"]), "entity": "notify_send", **data}
        if data["status"] == "scheduled":
            item.update(
                GSI2PK=keys.NOTIFY_DUE_INDEX_PK,
                GSI2SK=keys.notify_due_sk(data["send_at"], self.tenant_id, data["send_id"]),
            )
        tx.put(item, condition="attribute_not_exists(PK)")

    def scheduled(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(
            self.pk,
            sk_prefix=keys.NOTIFY_SEND_SK_PREFIX,
            limit=limit,
            cursor=cursor,
            filter_expression="#st = :scheduled",
            names={"#st": "status"},
            values={":scheduled": "scheduled"},
        )
        return [_strip(i) for i in page.items], page.next_cursor

    def close_send(self, tx: Tx, send_id: str, status: str, by: str, now: str) -> None:
        """scheduled -> cancelled / enqueued, once: the due index entry goes with it."""
        tx.update(
            self.pk,
            keys.notify_send_sk(send_id),
            "SET #st = :to, closed_at = :now, closed_by = :by REMOVE GSI2PK, GSI2SK",
            names={"#st": "status"},
            values={":to": status, ":now": now, ":by": by, ":scheduled": "scheduled"},
            condition="attribute_exists(PK) AND #st = :scheduled",
            on_fail=KeelError(
                ErrorCode.SAAS_011, "This send is no longer scheduled (already sent or cancelled)"
            ),
        )

    # notifications ------------------------------------------------------------------------

    def add_notification(
        self, tx: Tx, data: dict[str, Any], once: str | None = None, *, claimed_for: int | None = None
    ) -> None:
        """A new notification; with `once` (a source and recipient), a second one is refused; with
        `claimed_for`, written already claimed by its writer for that many seconds (see `claim`)."""
        if claimed_for is not None:
            data = data | {
                "status": "sending",
                "lease_until": clock.iso(clock.now() + timedelta(seconds=claimed_for)),
            }
        if once is not None:
            tx.put(
                {
                    "PK": self.pk,
                    "SK": once,
                    "entity": "notify_once",
                    "notification_id": data["notification_id"],
                    "expires_at": int((clock.now() + timedelta(days=30)).timestamp()),
                },
                condition="attribute_not_exists(PK)",
                on_fail=KeelError(ErrorCode.SAAS_011, "already notified"),
            )
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.notification_sk(data["notification_id"]),
                "entity": "notification",
                "GSI1PK": keys.notify_history_index_pk(self.tenant_id),
                "GSI1SK": data["notification_id"],
                "expires_at": int((clock.now() + NOTIFICATION_RETENTION).timestamp()),
                **data,
            },
            condition="attribute_not_exists(PK)",
        )

    @staticmethod
    def once_key(source: str, recipient: str) -> str:
        return keys.notify_once_sk(source, recipient)

    def once(self, source: str, recipient: str) -> str | None:
        """The notification a source already made for a recipient, if any."""
        item = table.get(self.pk, keys.notify_once_sk(source, recipient), consistent=True)
        return str(item["notification_id"]) if item else None

    def once_many(self, source: str, recipients: list[str]) -> dict[str, str]:
        """recipient -> the notification a source already made for them (BatchGetItem, 100 a call)."""
        wanted = {keys.notify_once_sk(source, r): r for r in recipients}
        found = table.batch_get([(self.pk, sk) for sk in wanted], consistent=True)
        return {wanted[i["SK"]]: str(i["notification_id"]) for i in found}

    def unfinished(self, notification_ids: list[str]) -> list[str]:
        """Those of `notification_ids` a delivery could still claim (`claim`'s condition, read in a
        BatchGetItem): queued, deferred, or sending with an ended lease."""
        now = clock.iso()
        found = table.batch_get(
            [(self.pk, keys.notification_sk(n)) for n in notification_ids], consistent=True
        )
        return [
            str(i["notification_id"])
            for i in found
            if i.get("status") in {"queued", "deferred"}
            or (i.get("status") == "sending" and str(i.get("lease_until", "")) < now)
        ]

    def notification(self, notification_id: str, *, consistent: bool = False) -> dict[str, Any]:
        item = table.get(self.pk, keys.notification_sk(notification_id), consistent=consistent)
        if not item or item.get("entity") != "notification":
            raise not_found(Kind.NOTIFICATION)
        return _strip(item)

    def history(
        self, limit: int, cursor: str | None, *, status: str | None, channel: str | None, user_id: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        parts, names, values = [], {}, {}
        if status:
            parts.append("#st = :st")
            names["#st"], values[":st"] = "status", status
        if channel:
            parts.append("contains(channels, :ch)")
            values[":ch"] = channel
        if user_id:
            parts.append("user_id = :u")
            values[":u"] = user_id
        page = table.query(
            keys.notify_history_index_pk(self.tenant_id),
            index="GSI1",
            limit=limit,
            cursor=cursor,
            newest_first=True,
            filter_expression=" AND ".join(parts) or None,
            names=names or None,
            values=values or None,
        )
        return [_strip(i) for i in page.items], page.next_cursor

    def recent(self, since_id: str) -> Iterator[dict[str, Any]]:
        """Notifications newer than `since_id` (a ULID bound), for channel statistics."""
        cursor = None
        while True:
            page = table.query(
                keys.notify_history_index_pk(self.tenant_id),
                index="GSI1",
                sk_between=(since_id, "~"),
                limit=200,
                cursor=cursor,
            )
            for item in page.items:
                yield _strip(item)
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def claim(self, notification_id: str, lease_seconds: int) -> dict[str, Any] | None:
        """Takes a queued (or abandoned) notification for delivery; None when another has it or it is done."""
        now = clock.iso()
        try:
            item = table.update(
                self.pk,
                keys.notification_sk(notification_id),
                "SET #st = :sending, lease_until = :until REMOVE GSI2PK, GSI2SK",
                names={"#st": "status"},
                values={
                    ":sending": "sending",
                    ":until": clock.iso(clock.now() + timedelta(seconds=lease_seconds)),
                    ":queued": "queued",
                    ":deferred": "deferred",
                    ":now": now,
                },
                condition="#st IN (:queued, :deferred) OR (#st = :sending AND lease_until < :now)",
            )
        except KeelError:
            return None
        return _strip(item)

    def finish(
        self,
        tx: Tx,
        notification_id: str,
        *,
        hops: dict[str, dict[str, Any]],
        status: str,
        final: bool,
        due: str | None = None,
    ) -> None:
        """What a delivery did, in one write: its hops (by channel), the current status and, when
        `final`, the end of the claim: a last status, `queued` to retry, or `deferred` until `due`."""
        sets = ["#st = :st", "updated_at = :now"]
        names: dict[str, str] = {"#st": "status"}
        values: dict[str, Any] = {":st": status, ":now": clock.iso()}
        for n, (channel, hop) in enumerate(hops.items()):
            sets += [f"hops.#c{n} = :h{n}", "current_channel = :ch"]
            names[f"#c{n}"], values[f":h{n}"], values[":ch"] = channel, hop, channel
        if due:
            sets += ["GSI2PK = :dpk", "GSI2SK = :dsk", "due_at = :due"]
            values |= {
                ":dpk": keys.NOTIFY_DUE_INDEX_PK,
                ":dsk": keys.notify_due_sk(due, self.tenant_id, notification_id),
                ":due": due,
            }
        expression = "SET " + ", ".join(dict.fromkeys(sets)) + (" REMOVE lease_until" if final else "")
        tx.update(self.pk, keys.notification_sk(notification_id), expression, names=names, values=values)

    def receipt(
        self, notification_id: str, channel: str, status: str, rank: int, extra: dict[str, Any]
    ) -> bool:
        """A provider's delivery receipt: applied once, never backwards (False when it changes nothing)."""
        names = {"#ch": channel, "#st": "status", "#rank": "rank", "#at": "at"}
        values: dict[str, Any] = {":st": status, ":rank": rank, ":now": clock.iso()}
        sets = ["hops.#ch.#st = :st", "hops.#ch.#rank = :rank", "hops.#ch.#at = :now", "updated_at = :now"]
        for i, (k, v) in enumerate(extra.items()):
            names[f"#x{i}"], values[f":x{i}"] = k, v
            sets.append(f"hops.#ch.#x{i} = :x{i}")
        try:
            item = table.update(
                self.pk,
                keys.notification_sk(notification_id),
                "SET " + ", ".join(sets),
                names=names,
                values=values,
                condition="attribute_exists(hops.#ch) AND hops.#ch.#rank < :rank",
            )
        except KeelError:
            return False
        if item.get("current_channel") == channel:  # the notification's status is its last hop's
            table.update(
                self.pk,
                keys.notification_sk(notification_id),
                "SET #st = :st",
                names={"#st": "status"},
                values={":st": status, ":ch": channel},
                condition="current_channel = :ch",
                on_fail=KeelError(ErrorCode.SAAS_011),
            )
        return True

    def requeue(self, tx: Tx, notification_id: str, *, from_status: str | None = None) -> None:
        """Back to `queued` (a deferred one whose time came, or a failed hop with channels left)."""
        condition = "#st = :from" if from_status else "#st IN (:failed, :undelivered, :bounced, :sent)"
        values = {":queued": "queued", ":now": clock.iso()}
        values.update(
            {":from": from_status}
            if from_status
            else {":failed": "failed", ":undelivered": "undelivered", ":bounced": "bounced", ":sent": "sent"}
        )
        tx.update(
            self.pk,
            keys.notification_sk(notification_id),
            "SET #st = :queued, updated_at = :now REMOVE GSI2PK, GSI2SK, due_at",
            names={"#st": "status"},
            values=values,
            condition=condition,
            on_fail=KeelError(ErrorCode.SAAS_011, "not re-queued"),
        )

    # limits -------------------------------------------------------------------------------

    def take_quota(  # noqa: PLR0911 - one return per limit
        self,
        channel: str,
        *,
        daily_limit: int | None,
        cost: float,
        cost_limit: float | None,
        rate: int | None,
        count: int = 1,
        now: datetime | None = None,
    ) -> str | None:
        """Counts `count` sends against the channel's day (and minute), all or none; the limit it
        would pass, or None. `now` names the day and minute (a later `give_back_quota` uses it)."""
        if daily_limit is not None and count > daily_limit:
            return "daily_limit"  # (a counter not yet written passes any condition)
        if rate is not None and count > rate:
            return "rate_per_minute"
        now = now or clock.now()
        day, minute = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%dT%H:%M")
        conds, values = [], {":n": count, ":cost": cost * count}
        if daily_limit is not None:
            conds.append("(attribute_not_exists(sent) OR sent <= :most)")
            values[":most"] = daily_limit - count
        if cost_limit is not None:
            conds.append("(attribute_not_exists(spent) OR spent <= :room)")
            values[":room"] = cost_limit - cost * count
            if cost * count > cost_limit:
                return "daily_cost_limit"
        tx = Tx()
        tx.update(
            self.pk,
            keys.notify_counter_sk(channel, day),
            "ADD sent :n, spent :cost SET expires_at = :exp",
            condition=" AND ".join(conds) or None,
            values={**values, ":exp": int((now + timedelta(days=3)).timestamp())},
            on_fail=KeelError(ErrorCode.SAAS_010, "daily"),
        )
        if rate is not None:
            tx.update(
                self.pk,
                keys.notify_counter_sk(channel, minute),
                "ADD sent :n SET expires_at = :exp",
                condition="attribute_not_exists(sent) OR sent <= :most",
                values={
                    ":n": count,
                    ":most": rate - count,
                    ":exp": int((now + timedelta(minutes=5)).timestamp()),
                },
                on_fail=KeelError(ErrorCode.SAAS_010, "rate"),
            )
        try:
            tx.commit()
        except KeelError as exc:
            if exc.code is not ErrorCode.SAAS_010:
                raise
            if exc.message == "rate":
                return "rate_per_minute"
            day_item = table.get(self.pk, keys.notify_counter_sk(channel, day)) or {}
            if daily_limit is not None and int(day_item.get("sent", 0)) + count > daily_limit:
                return "daily_limit"
            return "daily_cost_limit"
        return None

    def give_back_quota(self, channel: str, *, count: int, cost: float, rate: bool, now: datetime) -> None:
        """Returns sends taken with `take_quota(..., now=now)` and not made."""
        day, minute = now.strftime("%Y-%m-%d"), now.strftime("%Y-%m-%dT%H:%M")
        tx = Tx()
        tx.update(
            self.pk,
            keys.notify_counter_sk(channel, day),
            "ADD sent :n, spent :cost",
            values={":n": -count, ":cost": -cost * count},
        )
        if rate:
            tx.update(self.pk, keys.notify_counter_sk(channel, minute), "ADD sent :n", values={":n": -count})
        tx.commit()

    def sent_today(self, channel: str) -> int:
        item = table.get(self.pk, keys.notify_counter_sk(channel, clock.now().strftime("%Y-%m-%d")))
        return int(item.get("sent", 0)) if item else 0

    # suppression --------------------------------------------------------------------------

    def suppressed(self, address: str) -> bool:
        return table.get(self.pk, keys.notify_suppressed_sk(address)) is not None

    def suppressed_among(self, addresses: list[str]) -> set[str]:
        """The addresses of `addresses` that are suppressed (BatchGetItem, 100 a call)."""
        wanted = {keys.notify_suppressed_sk(a): a for a in addresses}
        return {wanted[i["SK"]] for i in table.batch_get([(self.pk, sk) for sk in wanted])}

    def suppress(self, address: str, reason: str) -> None:
        table.put(
            {
                "PK": self.pk,
                "SK": keys.notify_suppressed_sk(address),
                "entity": "notify_suppressed",
                "reason": reason,
                "at": clock.iso(),
            }
        )

    # preferences and inbox ----------------------------------------------------------------

    def preferences(self, user_id: str) -> dict[str, Any]:
        item = table.get(self.pk, keys.notify_prefs_sk(user_id))
        return _strip(item) if item else {}

    def put_preferences(self, tx: Tx, user_id: str, data: dict[str, Any]) -> None:
        tx.put({"PK": self.pk, "SK": keys.notify_prefs_sk(user_id), "entity": "notify_prefs", **data})

    def add_inbox(self, tx: Tx, user_id: str, data: dict[str, Any]) -> None:
        """An inbox entry and one more unread, together (once per notification)."""
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.inbox_sk(user_id, data["notification_id"]),
                "entity": "inbox",
                "user_id": user_id,
                "read": False,
                "expires_at": int((clock.now() + INBOX_RETENTION).timestamp()),
                **data,
            },
            condition="attribute_not_exists(PK)",
            on_fail=KeelError(ErrorCode.SAAS_011, "already in the inbox"),
        )
        tx.update(self.pk, keys.inbox_unread_sk(user_id), "ADD unread :one", values={":one": 1})

    def inbox(
        self, user_id: str, limit: int, cursor: str | None, unread_only: bool
    ) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(
            self.pk,
            sk_prefix=keys.inbox_prefix(user_id),
            limit=limit,
            cursor=cursor,
            newest_first=True,
            filter_expression="#r = :f" if unread_only else None,
            names={"#r": "read"} if unread_only else None,
            values={":f": False} if unread_only else None,
        )
        return [_strip(i) for i in page.items], page.next_cursor

    def in_inbox(self, user_id: str, notification_id: str) -> bool:
        return table.get(self.pk, keys.inbox_sk(user_id, notification_id), consistent=True) is not None

    def unread(self, user_id: str) -> int:
        item = table.get(self.pk, keys.inbox_unread_sk(user_id), consistent=True)
        return max(0, int(item.get("unread", 0))) if item else 0

    def mark_read(self, user_id: str, notification_id: str) -> bool:
        """Marks one entry read and counts it down, once (False when unknown or already read)."""
        tx = Tx()
        tx.update(
            self.pk,
            keys.inbox_sk(user_id, notification_id),
            "SET #r = :t, read_at = :now",
            names={"#r": "read"},
            values={":t": True, ":f": False, ":now": clock.iso()},
            condition="attribute_exists(PK) AND #r = :f",
        )
        tx.update(self.pk, keys.inbox_unread_sk(user_id), "ADD unread :minus", values={":minus": -1})
        try:
            tx.commit()
        except KeelError:
            return False
        return True

    def unread_ids(self, user_id: str) -> Iterator[str]:
        for item in table.query_all(self.pk, sk_prefix=keys.inbox_prefix(user_id)):
            if not item.get("read"):
                yield str(item["notification_id"])


def for_tenant(tenant_id: str) -> NotifyRepo:
    return NotifyRepo(tenant_id)


# platform-wide --------------------------------------------------------------------------------


def point(tx: Tx, provider: str, message_id: str, tenant_id: str, notification_id: str, channel: str) -> None:
    """Remembers which notification a provider's message id belongs to (receipts find it)."""
    tx.put(
        {
            "PK": keys.provider_message_pk(provider, message_id),
            "SK": keys.PROVIDER_MESSAGE_SK,
            "entity": "provider_message",
            "tenant_id": tenant_id,
            "notification_id": notification_id,
            "channel": channel,
            "expires_at": int((clock.now() + timedelta(days=30)).timestamp()),
        }
    )


def pointed(provider: str, message_id: str) -> dict[str, Any] | None:
    item = table.get(keys.provider_message_pk(provider, message_id), keys.PROVIDER_MESSAGE_SK)
    return _strip(item) if item else None


def due(now: str, limit: int = 200) -> list[dict[str, Any]]:
    """Scheduled sends and deferred notifications whose time has come (any tenant)."""
    page = table.query(keys.NOTIFY_DUE_INDEX_PK, index="GSI2", sk_between=("0", now + "~"), limit=limit)
    return page.items


# system mail templates (mailtpl) -------------------------------------------------------------


def system_template(
    tenant_id: str, name: str, user_id: str | None = None, others: list[tuple[str, str]] | None = None
) -> tuple[dict[str, Any] | None, dict[tuple[str, str], dict[str, Any]]]:
    """The e-mail template `name` for a user: in their locale (notification preferences), else its
    language, else English; for each, the tenant's before the platform's. With it, the items of
    `others` (keys other areas' repos give; raw). One BatchGetItem (the English ones, the
    preferences, the others), a second for a user whose locale is not English."""
    from keel.core.principal import PLATFORM_TENANT

    owners = [keys.tenant_pk(t) for t in dict.fromkeys((tenant_id, PLATFORM_TENANT))]
    prefs = (keys.tenant_pk(tenant_id), keys.notify_prefs_sk(user_id)) if user_id else None

    def wanted(locales: list[str]) -> list[tuple[str, str]]:
        return [(pk, keys.notify_template_sk(name, "email", lo)) for lo in locales for pk in owners]

    first = list(dict.fromkeys(wanted(["en"]) + ([prefs] if prefs else []) + list(others or [])))
    found = {(i["PK"], i["SK"]): i for i in table.batch_get(first)}
    theirs = {k: found[k] for k in others or [] if k in found}
    locale = str((found.get(prefs) or {}).get("locale") or "en") if prefs else "en"
    other_locales = [lo for lo in dict.fromkeys((locale, locale.split("-", maxsplit=1)[0])) if lo != "en"]
    if other_locales:
        found |= {(i["PK"], i["SK"]): i for i in table.batch_get(wanted(other_locales))}
    for key in wanted([*other_locales, "en"]):
        if key in found:
            return _strip(found[key]), theirs
    return None, theirs
