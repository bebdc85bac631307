"""Invitations in DynamoDB: `INVITE#<id>` in the tenant partition, plus one guard item per address."""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.invitations.models import Invitation, InvitationOut, InvitationStatus
from keel.store import keys, table

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
