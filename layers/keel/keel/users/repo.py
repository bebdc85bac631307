"""Users in DynamoDB: the user item under its tenant, and the global e-mail reservation."""

from __future__ import annotations

from typing import Any

from keel.core.errors import ErrorCode, KeelError
from keel.store import keys, table
from keel.store.table import Tx
from keel.users.models import User

USER_FIELDS = set(User.model_fields)


def user_item(user: User) -> dict[str, Any]:
    data = user.model_dump(mode="json")
    data.update(
        PK=keys.tenant_pk(user.tenant_id),
        SK=keys.user_sk(user.user_id),
        entity="user",
        GSI1PK=keys.users_index_pk(user.tenant_id),
        GSI1SK=f"{user.created_at}#{user.user_id}",
    )
    return data


def from_item(item: dict[str, Any]) -> User:
    return User.model_validate({k: v for k, v in item.items() if k in USER_FIELDS})


def get(tenant_id: str, user_id: str, *, consistent: bool = False) -> User | None:
    item = table.get(keys.tenant_pk(tenant_id), keys.user_sk(user_id), consistent=consistent)
    return from_item(item) if item else None


def lookup_email(email: str) -> tuple[str, str] | None:
    """(tenant_id, user_id) of the account with this login e-mail, if any."""
    item = table.get(keys.email_pk(email), keys.EMAIL_SK)
    return (item["tenant_id"], item["user_id"]) if item else None


def add_new_user(tx: Tx, user: User) -> None:
    """The user item and its e-mail reservation; fails if the e-mail is taken anywhere."""
    tx.put(
        {"PK": keys.email_pk(user.email), "SK": keys.EMAIL_SK, "entity": "email", **_owner(user)},
        condition="attribute_not_exists(PK)",
        on_fail=KeelError(
            ErrorCode.SAAS_011,
            "An account with this e-mail already exists",
            details=[{"field": "email", "message": "already registered"}],
        ),
    )
    tx.put(user_item(user), condition="attribute_not_exists(PK)")


def _owner(user: User) -> dict[str, str]:
    return {"tenant_id": user.tenant_id, "user_id": user.user_id}
