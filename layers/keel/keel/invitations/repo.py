"""Invitations in DynamoDB: `INVITE#<id>` in the tenant partition, plus one guard item per address."""

from __future__ import annotations

from typing import Any

from keel.core import clock
from keel.invitations.models import Invitation, InvitationOut, InvitationStatus
from keel.store import keys, table

PURPOSE = "invitation"
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


def get(tenant_id: str, invitation_id: str, *, consistent: bool = False) -> Invitation | None:
    raw = table.get(keys.tenant_pk(tenant_id), keys.invitation_sk(invitation_id), consistent=consistent)
    return from_item(raw) if raw else None


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
