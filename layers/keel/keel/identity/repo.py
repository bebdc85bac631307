"""Identity items in DynamoDB: sessions, one-time links, 2FA challenges and factors, password
history. The only code in `auth` that reads or writes the table.

Items found by a secret's hash (a session, a link, a challenge) are global: the hash is the
capability, and the item names its tenant. A user's own items sit under their tenant and are
read through `for_tenant(tenant_id)`.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from keel.core.errors import KeelError
from keel.store import keys, table
from keel.store.table import Tx


def session(token_hash: str) -> dict[str, Any] | None:
    return table.get(keys.session_pk(token_hash), keys.SESSION_SK)


def touch_session(item: dict[str, Any], now: int) -> None:
    """Last activity, written only if it moved forward (a concurrent request may have done it)."""
    with suppress(KeelError):  # a concurrent request already moved it, or the session just ended
        table.update(
            item["PK"],
            item["SK"],
            "SET last_seen = :now",
            condition="attribute_exists(PK) AND last_seen < :now",
            values={":now": now},
        )


def session_item(
    token_hash: str, tenant_id: str, user_id: str, session_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A session as stored: found by its token's hash, listed per user (GSI1) and tenant (GSI2)."""
    return {
        "PK": keys.session_pk(token_hash),
        "SK": keys.SESSION_SK,
        "entity": "session",
        "session_id": session_id,
        "tenant_id": tenant_id,
        "user_id": user_id,
        **fields,
        "GSI1PK": keys.user_sessions_index_pk(tenant_id, user_id),
        "GSI1SK": session_id,
        "GSI2PK": keys.tenant_sessions_index_pk(tenant_id),
        "GSI2SK": session_id,
    }


def add_session(tx: Tx, item: dict[str, Any]) -> None:
    tx.put(item, condition="attribute_not_exists(PK)")


def end_session(tx: Tx, item: dict[str, Any]) -> None:
    tx.delete(item["PK"], item["SK"])


def add_link(tx: Tx, token_hash: str, fields: dict[str, Any]) -> None:
    tx.put({"PK": keys.link_token_pk(token_hash), "SK": keys.LINK_SK, "entity": "link", **fields})


def drop_link(tx: Tx, token_hash: str) -> None:
    tx.delete(keys.link_token_pk(token_hash), keys.LINK_SK)


def use_link(tx: Tx, item: dict[str, Any], on_fail: KeelError) -> None:
    """A link's single use: the link and its user's pointer go; committing twice fails the second."""
    tx.delete(item["PK"], item["SK"], condition="attribute_exists(PK)", on_fail=on_fail)
    tx.delete(keys.tenant_pk(item["tenant_id"]), keys.user_link_sk(item["user_id"], item["purpose"]))


def link(token_hash: str) -> dict[str, Any] | None:
    return table.get(keys.link_token_pk(token_hash), keys.LINK_SK, consistent=True)


def challenge_key(token_hash: str) -> dict[str, str]:
    """The key attributes of a new 2FA login challenge item."""
    return {"PK": keys.challenge_pk(token_hash), "SK": keys.CHALLENGE_SK}


def challenge(token_hash: str) -> tuple[tuple[str, str], dict[str, Any] | None]:
    """A pending 2FA login challenge: its key and item (None once used, expired or dropped)."""
    key = (keys.challenge_pk(token_hash), keys.CHALLENGE_SK)
    return key, table.get(*key, consistent=True)


def count_attempt(pk: str, sk: str) -> int | None:
    """Adds a failed attempt to a code item (challenge, pending factor); None if it is gone."""
    try:
        updated = table.update(
            pk,
            sk,
            "SET attempts = if_not_exists(attempts, :zero) + :one",
            values={":zero": 0, ":one": 1},
            condition="attribute_exists(PK)",
        )
    except KeelError:
        return None
    return int(updated["attempts"])


def set_code(pk: str, sk: str, code_hash: str, expires: int) -> bool:
    """Stores the hash of an e-mailed code on its item; False if the item is gone (not needed)."""
    try:
        table.update(
            pk,
            sk,
            "SET code_hash = :h, code_expires = :exp",
            values={":h": code_hash, ":exp": expires},
            condition="attribute_exists(PK)",
        )
    except KeelError:
        return False
    return True


def drop(key: tuple[str, str]) -> None:
    """Deletes a spent code item (too many attempts)."""
    table.delete(*key)


def fetch(item_keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items of several areas in one BatchGetItem (login reads all it needs at once)."""
    return {(i["PK"], i["SK"]): i for i in table.batch_get(item_keys)}


class IdentityRepo:
    """One tenant's users' identity items."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def sessions_of(self, user_id: str) -> list[dict[str, Any]]:
        return list(table.query_all(keys.user_sessions_index_pk(self.tenant_id, user_id), index="GSI1"))

    def sessions_page(
        self, user_id: str | None, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the user's sessions (GSI1), or of the whole tenant's (GSI2)."""
        if user_id:
            page = table.query(
                keys.user_sessions_index_pk(self.tenant_id, user_id), index="GSI1", limit=limit, cursor=cursor
            )
        else:
            page = table.query(
                keys.tenant_sessions_index_pk(self.tenant_id), index="GSI2", limit=limit, cursor=cursor
            )
        return page.items, page.next_cursor

    def session_by_id(self, session_id: str) -> dict[str, Any] | None:
        page = table.query(
            keys.tenant_sessions_index_pk(self.tenant_id),
            index="GSI2",
            sk_between=(session_id, session_id),
            limit=1,
        )
        return page.items[0] if page.items else None

    def tenant_sessions(self) -> list[dict[str, Any]]:
        return list(table.query_all(keys.tenant_sessions_index_pk(self.tenant_id), index="GSI2"))

    @staticmethod
    def limit_session(item: dict[str, Any], idle_seconds: int, absolute: int) -> None:
        """An open session takes new limits (each session carries its own)."""
        table.update(
            item["PK"],
            item["SK"],
            "SET idle_seconds = :idle, absolute_expires = :abs, expires_at = :abs",
            values={":idle": idle_seconds, ":abs": absolute},
            condition="attribute_exists(PK)",
        )

    def put_link_pointer(self, tx: Tx, user_id: str, purpose: str, token_hash: str, expires: int) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.user_link_sk(user_id, purpose),
                "entity": "link_pointer",
                "token_hash": token_hash,
                "expires_at": expires,
            }
        )

    @staticmethod
    def drop_link_pointer(tx: Tx, pointer: dict[str, Any]) -> None:
        tx.delete(pointer["PK"], pointer["SK"])

    def link_pointer(self, user_id: str, purpose: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.user_link_sk(user_id, purpose))

    def factor(self, user_id: str, method: str) -> dict[str, Any] | None:
        return table.get(self.pk, keys.mfa_sk(user_id, method), consistent=True)

    def pending_factor(self, user_id: str, method: str) -> tuple[tuple[str, str], dict[str, Any] | None]:
        key = (self.pk, keys.mfa_pending_sk(user_id, method))
        return key, table.get(*key, consistent=True)

    def factors(self, user_id: str) -> list[dict[str, Any]]:
        """Every 2FA item of the user (factors, pending ones, backup codes)."""
        return list(table.query_all(self.pk, sk_prefix=keys.user_part_sk(user_id, "MFA")))

    def pending_factor_item(self, user_id: str, method: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A factor being enrolled (its code or secret added by the caller before `put`)."""
        return {"PK": self.pk, "SK": keys.mfa_pending_sk(user_id, method), "entity": "mfa_pending", **fields}

    @staticmethod
    def put(tx: Tx, item: dict[str, Any]) -> None:
        """An item built by this repo (`pending_factor_item`)."""
        tx.put(item)

    def confirm_factor(
        self, tx: Tx, pending_key: tuple[str, str], user_id: str, fields: dict[str, Any], on_fail: KeelError
    ) -> None:
        """The pending factor (used once) becomes the confirmed one."""
        tx.delete(*pending_key, condition="attribute_exists(PK)", on_fail=on_fail)
        tx.put({"PK": self.pk, "SK": keys.mfa_sk(user_id, fields["method"]), "entity": "mfa", **fields})

    @staticmethod
    def drop_all(tx: Tx, items: list[dict[str, Any]]) -> None:
        """Items read through this repo (a user's factors, to reset them)."""
        for item in items:
            tx.delete(item["PK"], item["SK"])

    def use_totp_step(
        self, tx: Tx, user_id: str, step: int, on_fail: KeelError, sk: str | None = None
    ) -> None:
        """A TOTP step used once: a step not after the last one fails (`sk`: a pending factor's)."""
        tx.update(
            self.pk,
            sk or keys.mfa_sk(user_id, "totp"),
            "SET last_step = :step",
            condition="attribute_exists(PK) AND (attribute_not_exists(last_step) OR last_step < :step)",
            values={":step": step},
            on_fail=on_fail,
        )

    def put_backup_codes(self, tx: Tx, user_id: str, hashes: set[str], now: str) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.backup_codes_sk(user_id),
                "entity": "backup_codes",
                "hashes": hashes,
                "created_at": now,
            }
        )

    def use_backup_code(self, tx: Tx, user_id: str, code_hash: str, on_fail: KeelError) -> None:
        tx.update(
            self.pk,
            keys.backup_codes_sk(user_id),
            "DELETE hashes :h",
            condition="contains(hashes, :one)",
            values={":h": {code_hash}, ":one": code_hash},
            on_fail=on_fail,
        )

    def put_password_history(self, tx: Tx, user_id: str, hashes: list[str]) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.password_history_sk(user_id),
                "entity": "password_history",
                "hashes": hashes,
            }
        )

    def password_history(self, user_id: str) -> list[str]:
        item = table.get(self.pk, keys.password_history_sk(user_id), consistent=True)
        return list((item or {}).get("hashes", []))


def for_tenant(tenant_id: str) -> IdentityRepo:
    return IdentityRepo(tenant_id)
