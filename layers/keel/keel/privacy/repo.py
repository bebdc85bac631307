"""What a data request reads: everything about one person, by the key layout of store/keys.py
(their items under `USER#<id>#`, their audit records and the findings about them, their profile
and invitation as stored), and the deletion log and progress items. Scoped to one tenant.
"""

from __future__ import annotations

from typing import Any

from keel.store import keys, table
from keel.store.table import Tx


class PrivacyRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def user_parts(self, user_id: str) -> list[dict[str, Any]]:
        """Every per-user item (2FA, password history, link pointers, role history, ...)."""
        return list(table.query_all(self.pk, sk_prefix=keys.user_sk(user_id) + "#"))

    def records_about(self, user_id: str) -> list[dict[str, Any]]:
        """Audit records by or about the user, and the security findings about them (IPs too)."""
        pk = keys.audit_user_index_pk(self.tenant_id, user_id)
        found = {i["SK"]: i for i in table.query_all(pk, index="GSI1")}
        found.update({i["SK"]: i for i in table.query_all(pk, index="GSI2")})
        findings = keys.suspicious_user_index_pk(self.tenant_id, user_id)
        found.update({i["SK"]: i for i in table.query_all(findings, index="GSI1")})
        return [found[k] for k in sorted(found)]

    def stored_user(self, user_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        return table.get(self.pk, keys.user_sk(user_id), consistent=consistent)

    def stored_invitation(self, user_id: str) -> dict[str, Any] | None:
        """The invitation that created the user (they share their ULID), as stored."""
        return table.get(self.pk, keys.invitation_sk(keys.invitation_id_for(user_id)))

    def progress(self, user_id: str) -> dict[str, Any] | None:
        return table.get(
            keys.deletions_pk(self.tenant_id), keys.deletion_progress_sk(user_id), consistent=True
        )

    def log_page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(
            keys.deletions_pk(self.tenant_id),
            sk_prefix=keys.DELETION_LOG_SK_PREFIX,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        return page.items, page.next_cursor

    # erasure: the progress item, the log, the invitation's personal fields ---------------------

    def start_progress(self, tx: Tx, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        marker = {
            "PK": keys.deletions_pk(self.tenant_id),
            "SK": keys.deletion_progress_sk(user_id),
            "entity": "deletion_progress",
            "user_id": user_id,
            **fields,
        }
        tx.put(marker, condition="attribute_not_exists(PK)")
        return marker

    def count_progress(self, tx: Tx, user_id: str, step: str, n: int, *, done: bool) -> None:
        """Counts `n` erased items of `step` on the progress item (and marks the step `done`)."""
        tx.update(
            keys.deletions_pk(self.tenant_id),
            keys.deletion_progress_sk(user_id),
            "ADD #c :n" + (", done :step" if done else ""),
            names={"#c": f"count_{step}"},
            values={":n": n, **({":step": {step}} if done else {})},
            condition="attribute_exists(PK)",
        )

    def end_progress(self, tx: Tx, user_id: str) -> None:
        tx.delete(
            keys.deletions_pk(self.tenant_id),
            keys.deletion_progress_sk(user_id),
            condition="attribute_exists(PK)",
        )

    def add_log(self, tx: Tx, log_id: str, fields: dict[str, Any]) -> None:
        tx.put(
            {
                "PK": keys.deletions_pk(self.tenant_id),
                "SK": keys.deletion_log_sk(log_id),
                "entity": "deletion_log",
                **fields,
            }
        )

    def blank_invitation(self, tx: Tx, user_id: str) -> None:
        tx.update(
            self.pk,
            keys.invitation_sk(keys.invitation_id_for(user_id)),
            "SET email = :e, anonymised = :t REMOVE #n",
            names={"#n": "name"},
            values={":e": f"erased:{user_id}", ":t": True},
        )


def link_key(token_hash: str) -> dict[str, str]:
    """A one-time link, by its token's hash (erased with its user's pointer)."""
    return {"PK": keys.link_token_pk(token_hash), "SK": keys.LINK_SK}


def drop(tx: Tx, item: dict[str, Any]) -> None:
    """An item read about the person (or its key): erased."""
    tx.delete(item["PK"], item["SK"])


def anonymise_record(tx: Tx, record: dict[str, Any], details: dict[str, Any]) -> None:
    """An audit record or finding keeps what happened, not who from where."""
    tx.update(
        record["PK"],
        record["SK"],
        "SET details = :d, anonymised = :t REMOVE ip, user_agent, country",
        values={":d": details, ":t": True},
        condition="attribute_exists(PK)",
    )


def for_tenant(tenant_id: str) -> PrivacyRepo:
    return PrivacyRepo(tenant_id)
