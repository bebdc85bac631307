"""Users in DynamoDB: the user item under its tenant, its list indexes, search entries, role
history, due temporary suspensions and the global e-mail reservation.

The only code that reads or writes these items. `for_tenant(scoped_id)` works inside one tenant
(the id comes from `principal.tenant_scope(...)` or from a stored item, never straight from a
request); the module functions are the global ones (the e-mail reservation, the due list).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from keel.core import ids
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.store import keys, table
from keel.store.expressions import updates
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
        "GSI3SK": keys.created_sk(user.created_at, user.user_id),
    }
    if user.status is not UserStatus.DELETED:
        out.update(
            GSI1PK=keys.users_index_pk(user.tenant_id),
            GSI1SK=keys.created_sk(user.created_at, user.user_id),
            GSI2PK=keys.users_role_index_pk(user.tenant_id, user.role),
            GSI2SK=keys.users_role_index_sk(status, user.created_at, user.user_id),
        )
    return out


def user_item(user: User) -> dict[str, Any]:
    data = user.model_dump(mode="json")
    data.update(PK=keys.tenant_pk(user.tenant_id), SK=keys.user_sk(user.user_id), entity="user")
    data.update(index_keys(user))
    return data


def from_item(item: dict[str, Any]) -> User:
    return User.model_validate({k: v for k, v in item.items() if k in USER_FIELDS})


def email_key(email: str) -> tuple[str, str]:
    """The key of an address's reservation (login reads it in a batch with other items)."""
    return keys.email_pk(email), keys.EMAIL_SK


def lookup_email(email: str) -> tuple[str, str] | None:
    """(tenant_id, user_id) of the account with this login e-mail, if any."""
    item = table.get(keys.email_pk(email), keys.EMAIL_SK)
    return (item["tenant_id"], item["user_id"]) if item else None


def by_email(email: str) -> User | None:
    """The account whose login e-mail this is (two reads: the reservation, then the user)."""
    found = lookup_email(email)
    return UserRepo(found[0]).get(found[1]) if found else None


def add_new_user(tx: Tx, user: User) -> None:
    """The user item, its search entries and its e-mail reservation (unless `email_reserved` is
    False); fails if the e-mail is taken."""
    if user.email_reserved:
        reserve_email(tx, user.email, user)
    tx.put(user_item(user), condition="attribute_not_exists(PK)")
    for entry in search_entries(user):
        tx.put(entry)


def reserve_email(tx: Tx, email: str, user: User, on_fail: KeelError | None = None) -> None:
    tx.put(
        {"PK": keys.email_pk(email), "SK": keys.EMAIL_SK, "entity": "email", **_owner(user)},
        condition="attribute_not_exists(PK)",
        on_fail=on_fail or email_taken(),
    )


def email_taken() -> KeelError:
    return KeelError(
        ErrorCode.SAAS_011,
        "An account with this e-mail already exists",
        details=[{"field": "email", "message": "already registered"}],
    )


ELSEWHERE = (
    "This address already has an account with another organisation, and an address can belong "
    "to one organisation only."
)


def release_email(tx: Tx, user: User) -> None:
    """The address is free again (if this user still holds it)."""
    tx.delete(
        keys.email_pk(user.email),
        keys.EMAIL_SK,
        condition="attribute_not_exists(PK) OR user_id = :u",
        values={":u": user.user_id},
    )


def _owner(user: User) -> dict[str, str]:
    return {"tenant_id": user.tenant_id, "user_id": user.user_id}


# search -------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def search_terms(email: str, name: str) -> list[str]:
    """`E#<email>` and `N#<name from each word on>`: a prefix of any word of the name finds the user."""
    words = _SPACES.split(name.strip().lower())
    names = {" ".join(words[i:]) for i in range(len(words)) if words[i]}
    return [keys.user_search_term_email(email), *sorted(keys.user_search_term_name(n) for n in names)]


def search_entries(user: User) -> list[dict[str, Any]]:
    if user.status is UserStatus.DELETED:
        return []
    return [
        {
            "PK": keys.user_search_pk(user.tenant_id),
            "SK": keys.user_search_sk(term, user.user_id),
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


# one tenant's users --------------------------------------------------------------------------

CHANGED_MEANWHILE = "The user changed meanwhile; reload and retry"


class UserRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def key(self, user_id: str) -> tuple[str, str]:
        """The user item's key (login reads it in a batch with other items)."""
        return self.pk, keys.user_sk(user_id)

    def get(self, user_id: str, *, consistent: bool = False) -> User | None:
        item = table.get(*self.key(user_id), consistent=consistent)
        return from_item(item) if item else None

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        """Users by id in one BatchGetItem (per 100), missing ones left out."""
        found = table.batch_get([self.key(u) for u in dict.fromkeys(user_ids)])
        return {i["user_id"]: from_item(i) for i in found if i.get("entity") == "user"}

    def link_keys(self, user_id: str, purpose: str) -> list[tuple[str, str]]:
        """The user's key and their current link pointer's of `purpose`: the mailer reads them
        together with the mail's template (`system_mail.read`) before issuing a new link."""
        return [self.key(user_id), (self.pk, keys.user_link_sk(user_id, purpose))]

    def with_link(
        self, found: dict[tuple[str, str], dict[str, Any]], user_id: str, purpose: str
    ) -> tuple[User | None, dict[str, Any] | None]:
        """The user and their link pointer (`links.issue(pointer=...)`) among items read by `link_keys`."""
        return self.user_in(found, user_id), found.get((self.pk, keys.user_link_sk(user_id, purpose)))

    def user_in(self, found: dict[tuple[str, str], dict[str, Any]], user_id: str) -> User | None:
        """The user among items read with others by their key (`key`)."""
        user = found.get(self.key(user_id))
        return from_item(user) if user and user.get("entity") == "user" else None

    # listing ------------------------------------------------------------------------------

    def page(
        self,
        *,
        role: str | None,
        status: UserStatus | None,
        lo: str | None,
        hi: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[User], str | None]:
        """One Query whatever the filter (README "Users: access patterns"), newest first."""
        query: dict[str, Any] = {"limit": limit, "cursor": cursor, "newest_first": True}
        date_range = (lo or "0", (hi or "9") + "~") if lo or hi else None
        if role:
            pk, query["index"] = keys.users_role_index_pk(self.tenant_id, role), "GSI2"
            if status:
                prefix = keys.users_role_status_prefix(status.value)
                if date_range:
                    query["sk_between"] = (prefix + date_range[0], prefix + date_range[1])
                else:
                    query["sk_prefix"] = prefix
            elif date_range:
                query.update(
                    filter_expression="created_at BETWEEN :lo AND :hi",
                    values={":lo": date_range[0], ":hi": date_range[1]},
                )
        elif status:
            pk, query["index"] = keys.users_status_index_pk(self.tenant_id, status.value), "GSI3"
            query["sk_between"] = date_range
        else:
            pk, query["index"] = keys.users_index_pk(self.tenant_id), "GSI1"
            query["sk_between"] = date_range
        found = table.query(pk, **query)
        return [from_item(i) for i in found.items], found.next_cursor

    def search(self, term: str, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        """Ids of the users whose e-mail (term with `@`) or a name word starts with `term`."""
        term = term.strip().lower()
        prefix = keys.user_search_term_email(term) if "@" in term else keys.user_search_term_name(term)
        found = table.query(keys.user_search_pk(self.tenant_id), sk_prefix=prefix, limit=limit, cursor=cursor)
        return list(dict.fromkeys(i["user_id"] for i in found.items)), found.next_cursor

    def every(self) -> Iterator[User]:
        """Every user of the tenant, page after page (for previews and sweeps, not for listings)."""
        for item in table.query_all(keys.users_index_pk(self.tenant_id), index="GSI1"):
            if item.get("entity") == "user":
                yield from_item(item)

    def active_ids(self, roles: Collection[str] = ()) -> Iterator[str]:
        """Ids of the tenant's active users (of `roles`, if given), oldest first, read lean for bulk
        audiences: the status index, two attributes, 1,000 a page."""
        for item in table.query_all(
            keys.users_status_index_pk(self.tenant_id, UserStatus.ACTIVE.value),
            index="GSI3",
            projection="entity, user_id, #role",
            names={"#role": "role"},
            page_size=1000,
        ):
            if item.get("entity") == "user" and (not roles or item.get("role") in roles):
                yield item["user_id"]

    def active_ids_with_role(self, role: str, limit: int) -> list[str]:
        found = table.query(
            keys.users_role_index_pk(self.tenant_id, role),
            index="GSI2",
            sk_prefix=keys.users_role_status_prefix(UserStatus.ACTIVE.value),
            limit=limit,
        )
        return [i["user_id"] for i in found.items]

    # changes ------------------------------------------------------------------------------

    def add(self, tx: Tx, user: User) -> None:
        assert user.tenant_id == self.tenant_id
        add_new_user(tx, user)

    def update_profile(self, tx: Tx, before: User, after: User, changes: dict[str, Any]) -> None:
        """Sets (or, for None, removes) `changes` on a user that is not deleted; search follows."""
        upd = updates(changes, none_removes=True)
        tx.update(
            *self.key(before.user_id),
            upd.expression,
            names=upd.names | {"#_st": "status"},
            values=upd.values | {":_deleted": UserStatus.DELETED.value},
            condition="attribute_exists(PK) AND #_st <> :_deleted",
            on_fail=not_found(Kind.USER),
        )
        replace_search_entries(tx, before, after)

    def confirm_email(self, tx: Tx, before: User, after: User, on_fail: KeelError) -> None:
        """The pending e-mail becomes the login e-mail: reservation moved, search entries follow."""
        if before.email_reserved:
            tx.delete(keys.email_pk(before.email), keys.EMAIL_SK)
        reserve_email(tx, after.email, before)
        tx.update(
            *self.key(before.user_id),
            "SET email = :e, updated_at = :now, email_reserved = :t REMOVE pending_email",
            values={":e": after.email, ":now": after.updated_at, ":p": after.email, ":t": True},
            condition="pending_email = :p",
            on_fail=on_fail,
        )
        replace_search_entries(tx, before, after)

    def move_status(
        self,
        tx: Tx,
        user: User,
        to: UserStatus,
        *,
        fields: dict[str, Any] | None = None,
        remove: tuple[str, ...] = (),
        on_fail: KeelError | None = None,
    ) -> None:
        """Sets the status (with `fields`), moving the list indexes in the same update, if the
        stored status is still `user.status`."""
        moved = index_keys(user.model_copy(update={"status": to}))
        upd = updates({"status": to.value, **(fields or {}), **moved}, remove=remove)
        tx.update(
            *self.key(user.user_id),
            upd.expression,
            names=upd.names,
            values=upd.values | {":_cur": user.status.value},
            condition="#status = :_cur",
            on_fail=on_fail or KeelError(ErrorCode.SAAS_011, CHANGED_MEANWHILE),
        )

    def claim_email(self, tx: Tx, user: User) -> None:
        """Reserves the address of a user created while it belonged to another tenant (their
        activation): refused, to the address's holder only, while that account exists."""
        if not user.email_reserved:
            reserve_email(tx, user.email, user, on_fail=KeelError(ErrorCode.SAAS_011, ELSEWHERE))

    def set_fields(self, tx: Tx, user_id: str, fields: dict[str, Any], remove: tuple[str, ...] = ()) -> None:
        """Sets `fields` (and removes `remove`) on an existing user item (2FA methods, password...)."""
        tx.change(*self.key(user_id), fields, remove=remove)

    def hide_for_erasure(self, tx: Tx, user: User, on_fail: KeelError) -> None:
        """An erasure starts: the account cannot sign in and leaves the lists (status `deleted`)."""
        tx.update(
            *self.key(user.user_id),
            "SET #s = :deleted, GSI3PK = :g3 REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK",
            names={"#s": "status"},
            values={
                ":deleted": UserStatus.DELETED.value,
                ":g3": keys.users_status_index_pk(self.tenant_id, UserStatus.DELETED.value),
                ":cur": user.status.value,
            },
            condition="#s = :cur",
            on_fail=on_fail,
        )

    def erase_profile(self, tx: Tx, user_id: str, erased: tuple[str, ...], now: str) -> None:
        """The tombstone: personal fields removed, the e-mail and name replaced."""
        tx.update(
            *self.key(user_id),
            "SET email = :e, #n = :n, erased_at = :now, updated_at = :now REMOVE " + ", ".join(erased),
            names={"#n": "name"},
            values={":e": f"erased:{user_id}", ":n": "Deleted user", ":now": now},
            condition="attribute_exists(PK)",
        )

    def drop_search_entries(self, tx: Tx, entries: list[dict[str, Any]]) -> None:
        for e in entries:
            tx.delete(e["PK"], e["SK"])

    def set_last_login(self, tx: Tx, user_id: str, now: str) -> None:
        tx.update(
            *self.key(user_id),
            "SET last_login_at = :now",
            values={":now": now},
            condition="attribute_exists(PK)",
        )

    def set_role(self, tx: Tx, user: User, role: str, now: str, on_fail: KeelError) -> None:
        tx.update(
            *self.key(user.user_id),
            "SET #r = :new, updated_at = :now, GSI2PK = :g2",
            names={"#r": "role"},
            values={
                ":new": role,
                ":old": user.role,
                ":now": now,
                ":g2": keys.users_role_index_pk(self.tenant_id, role),
            },
            condition="#r = :old",
            on_fail=on_fail,
        )

    # role history -------------------------------------------------------------------------

    def add_role_history(self, tx: Tx, user_id: str, entry: dict[str, Any]) -> None:
        tx.put(
            {
                "PK": self.pk,
                "SK": keys.user_part_sk(user_id, "ROLEHIST", ids.ulid()),
                "entity": "role_history",
                "user_id": user_id,
                **entry,
            }
        )

    def role_history(
        self, user_id: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        found = table.query(
            self.pk,
            sk_prefix=keys.user_part_sk(user_id, "ROLEHIST") + "#",
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        return found.items, found.next_cursor

    # temporary suspensions -----------------------------------------------------------------

    def add_due_suspension(self, tx: Tx, user_id: str, until: str) -> None:
        tx.put(
            {
                "PK": keys.SUSPENSIONS_DUE_PK,
                "SK": keys.suspension_due_sk(until, self.tenant_id, user_id),
                "entity": "suspension_due",
                "tenant_id": self.tenant_id,
                "user_id": user_id,
                "until": until,
            }
        )

    def remove_due_suspension(self, tx: Tx, user_id: str, until: str) -> None:
        tx.delete(keys.SUSPENSIONS_DUE_PK, keys.suspension_due_sk(until, self.tenant_id, user_id))


def for_tenant(tenant_id: str) -> UserRepo:
    return UserRepo(tenant_id)


def due_suspensions(now: str, limit: int) -> list[dict[str, Any]]:
    """Temporary suspensions whose end has passed, across tenants (the schedule's list)."""
    return table.query(keys.SUSPENSIONS_DUE_PK, sk_between=("0", now + "~"), limit=limit).items


def drop_due_suspension(item: dict[str, Any]) -> None:
    """A stale marker (the user was unsuspended or deleted meanwhile)."""
    table.delete(item["PK"], item["SK"])
