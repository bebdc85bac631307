"""Invitations in DynamoDB: `INVITE#<id>` in the tenant partition, plus one guard item per address."""

from __future__ import annotations

from typing import Any, Literal

from keel.core import clock
from keel.core.errors import ErrorCode, KeelError
from keel.invitations.models import Invitation, InvitationOut, InvitationStatus
from keel.store import keys, table
from keel.store.table import Tx

FIELDS = set(Invitation.model_fields)


def item(inv: Invitation) -> dict[str, Any]:
    return {
        **inv.model_dump(mode="json"),
        "PK": keys.tenant_pk(inv.tenant_id),
        "SK": keys.invitation_sk(inv.invitation_id),
        "entity": "invitation",
    }


def from_item(raw: dict[str, Any]) -> Invitation:
    return Invitation.model_validate({k: v for k, v in raw.items() if k in FIELDS})


class InvitationRepo:
    """One tenant's invitations (built from the caller's scope: `for_tenant(scoped_id)`)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def get(self, invitation_id: str, *, consistent: bool = False) -> Invitation | None:
        raw = table.get(self.pk, keys.invitation_sk(invitation_id), consistent=consistent)
        return from_item(raw) if raw else None

    def page(self, status: str | None, limit: int, cursor: str | None) -> tuple[list[Invitation], str | None]:
        """Newest first, one Query; `expired` is a pending invitation past its end (a filter)."""
        query: dict[str, Any] = {
            "sk_prefix": keys.INVITATION_SK_PREFIX,
            "limit": limit,
            "cursor": cursor,
            "newest_first": True,
        }
        now = clock.epoch()
        if status == "pending":
            query.update(
                filter_expression="#s = :p AND expires_epoch > :now", values={":p": "pending", ":now": now}
            )
        elif status == "expired":
            query.update(
                filter_expression="#s = :p AND expires_epoch <= :now", values={":p": "pending", ":now": now}
            )
        elif status:
            query.update(filter_expression="#s = :x", values={":x": status})
        if status:
            query["names"] = {"#s": "status"}
        found = table.query(self.pk, **query)
        return [from_item(i) for i in found.items], found.next_cursor

    def of_user(self, user_id: str) -> Invitation | None:
        """The invitation that creates (or created) this user: they share their ULID."""
        return self.get(keys.invitation_id_for(user_id), consistent=True)

    # changes: the invitation and its guard item (at most one live invitation per address) ----

    def add(self, tx: Tx, inv: Invitation) -> None:
        assert inv.tenant_id == self.tenant_id
        tx.put(item(inv), condition="attribute_not_exists(PK)")
        self._guard(tx, inv)

    def extend(self, tx: Tx, updated: Invitation, on_fail: KeelError) -> None:
        """A pending invitation's new end and send count (a resend); its guard follows."""
        tx.update(
            self.pk,
            keys.invitation_sk(updated.invitation_id),
            "SET expires_epoch = :e, ends_at = :ea, sent_count = :n",
            names={"#s": "status"},
            values={
                ":e": updated.expires_epoch,
                ":ea": updated.ends_at,
                ":n": updated.sent_count,
                ":p": "pending",
            },
            condition="#s = :p",
            on_fail=on_fail,
        )
        self._guard(tx, updated)

    def close(
        self, tx: Tx, inv: Invitation, status: Literal["revoked", "accepted"], now: str, on_fail: KeelError
    ) -> None:
        """A pending invitation becomes `revoked` or `accepted` (with `<status>_at`); guard dropped."""
        tx.update(
            self.pk,
            keys.invitation_sk(inv.invitation_id),
            f"SET #s = :to, {status}_at = :now",
            names={"#s": "status"},
            values={":to": status, ":now": now, ":p": "pending"},
            condition="#s = :p",
            on_fail=on_fail,
        )
        tx.delete(
            self.pk,
            keys.invitation_email_sk(inv.email),
            condition="attribute_not_exists(PK) OR invitation_id = :id",
            values={":id": inv.invitation_id},
            on_fail=KeelError(ErrorCode.SAAS_011, "Concurrent invitation change; retry"),
        )

    def _guard(self, tx: Tx, inv: Invitation) -> None:
        """At most one live invitation per address per tenant."""
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.invitation_email_sk(inv.email),
                "entity": "invitation_guard",
                "invitation_id": inv.invitation_id,
                "expires_epoch": inv.expires_epoch,
            },
            condition="attribute_not_exists(PK) OR expires_epoch <= :now OR invitation_id = :id",
            values={":now": clock.epoch(), ":id": inv.invitation_id},
            on_fail=KeelError(
                ErrorCode.SAAS_011,
                "This address already has a pending invitation; resend or revoke it",
                details=[{"field": "email", "message": "already invited"}],
            ),
        )


def for_tenant(tenant_id: str) -> InvitationRepo:
    return InvitationRepo(tenant_id)


def current_status(inv: Invitation) -> InvitationStatus:
    if inv.status == "pending" and inv.expires_epoch <= clock.epoch():
        return "expired"
    return inv.status


def out(inv: Invitation) -> InvitationOut:
    data = inv.model_dump()
    data["status"] = current_status(inv)
    data["expires_at"] = inv.ends_at
    if inv.status != "accepted":
        data["user_id"] = None
    return InvitationOut.model_validate(data)
