"""Users in DynamoDB: the user item under its tenant, its list indexes, search entries, and the
global e-mail reservation."""

from __future__ import annotations

import re
from typing import Any

from keel.core.errors import ErrorCode, KeelError
from keel.store import keys, table
from keel.store.table import Tx
from keel.users.models import User, UserStatus

USER_FIELDS = set(User.model_fields)


def index_keys(user: User) -> dict[str, str]:
    """The GSI attributes of a user item (see keys.py): by creation, by role, by status.

    A deleted user (tombstone) stays only in its status index.
    """
    status = user.status.value
    out = {
        "GSI3PK": keys.users_status_index_pk(user.tenant_id, status),
        "GSI3SK": f"{user.created_at}#{user.user_id}",
    }
    if user.status is not UserStatus.DELETED:
        out.update(
            GSI1PK=keys.users_index_pk(user.tenant_id),
            GSI1SK=f"{user.created_at}#{user.user_id}",
            GSI2PK=keys.users_role_index_pk(user.tenant_id, user.role),
            GSI2SK=f"{status}#{user.created_at}#{user.user_id}",
        )
    return out


def status_index_set(user: User, status: UserStatus) -> tuple[str, dict[str, str]]:
    """`SET` clauses (and values) that move a user's indexes to a new status, to add to an update."""
    moved = index_keys(user.model_copy(update={"status": status}))
    return ", ".join(f"{k} = :_ix{k}" for k in moved), {f":_ix{k}": v for k, v in moved.items()}


def user_item(user: User) -> dict[str, Any]:
    data = user.model_dump(mode="json")
    data.update(PK=keys.tenant_pk(user.tenant_id), SK=keys.user_sk(user.user_id), entity="user")
    data.update(index_keys(user))
    return data


def from_item(item: dict[str, Any]) -> User:
    return User.model_validate({k: v for k, v in item.items() if k in USER_FIELDS})


def get(tenant_id: str, user_id: str, *, consistent: bool = False) -> User | None:
    item = table.get(keys.tenant_pk(tenant_id), keys.user_sk(user_id), consistent=consistent)
    return from_item(item) if item else None


def get_with_item(tenant_id: str, user_id: str, sk: str) -> tuple[User | None, dict[str, Any] | None]:
    """The user and one more item of the tenant's partition (e.g. a link pointer): one BatchGetItem."""
    found = {
        i["SK"]: i
        for i in table.batch_get(
            [(keys.tenant_pk(tenant_id), keys.user_sk(user_id)), (keys.tenant_pk(tenant_id), sk)]
        )
    }
    user = found.get(keys.user_sk(user_id))
    return (from_item(user) if user and user.get("entity") == "user" else None), found.get(sk)


def get_many(tenant_id: str, user_ids: list[str]) -> dict[str, User]:
    found = table.batch_get([(keys.tenant_pk(tenant_id), keys.user_sk(u)) for u in dict.fromkeys(user_ids)])
    return {i["user_id"]: from_item(i) for i in found if i.get("entity") == "user"}


def lookup_email(email: str) -> tuple[str, str] | None:
    """(tenant_id, user_id) of the account with this login e-mail, if any."""
    item = table.get(keys.email_pk(email), keys.EMAIL_SK)
    return (item["tenant_id"], item["user_id"]) if item else None


def add_new_user(tx: Tx, user: User) -> None:
    """The user item, its search entries and its e-mail reservation; fails if the e-mail is taken."""
    reserve_email(tx, user.email, user)
    tx.put(user_item(user), condition="attribute_not_exists(PK)")
    for entry in search_entries(user):
        tx.put(entry)


def reserve_email(tx: Tx, email: str, user: User) -> None:
    tx.put(
        {"PK": keys.email_pk(email), "SK": keys.EMAIL_SK, "entity": "email", **_owner(user)},
        condition="attribute_not_exists(PK)",
        on_fail=KeelError(
            ErrorCode.SAAS_011,
            "An account with this e-mail already exists",
            details=[{"field": "email", "message": "already registered"}],
        ),
    )


def _owner(user: User) -> dict[str, str]:
    return {"tenant_id": user.tenant_id, "user_id": user.user_id}


# search -------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def search_terms(email: str, name: str) -> list[str]:
    """`E#<email>` and `N#<name from each word on>`: a prefix of any word of the name finds the user."""
    words = _SPACES.split(name.strip().lower())
    names = {" ".join(words[i:]) for i in range(len(words)) if words[i]}
    return [f"E#{email.strip().lower()}", *sorted(f"N#{n}" for n in names)]


def search_entries(user: User) -> list[dict[str, Any]]:
    if user.status is UserStatus.DELETED:
        return []
    return [
        {
            "PK": keys.user_search_pk(user.tenant_id),
            "SK": f"{term}#{user.user_id}",
            "entity": "user_search",
            "user_id": user.user_id,
        }
        for term in search_terms(user.email, user.name)
    ]


def replace_search_entries(tx: Tx, before: User, after: User) -> None:
    old = {e["SK"] for e in search_entries(before)}
    new = {e["SK"]: e for e in search_entries(after)}
    for sk in old - set(new):
        tx.delete(keys.user_search_pk(before.tenant_id), sk)
    for sk in set(new) - old:
        tx.put(new[sk])
