"""One-time links (activation, password reset, invitation): single use, expiring, revocable.

The link item is found by the token's hash; a pointer under the user names the current link of
each purpose, so issuing a new one deletes the old one in the same transaction.
"""

from __future__ import annotations

from typing import Any

from keel.auth.tokens import digest
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.store import keys, table
from keel.store.table import Tx

ACTIVATION = "activation"


READ: Any = object()  # `issue(pointer=READ)`: read the current pointer itself


def issue(
    tx: Tx, *, tenant_id: str, user_id: str, purpose: str, ttl_seconds: int, pointer: Any = READ
) -> str:
    """Adds a new link to `tx` (revoking the user's previous one of this purpose); returns the token.

    `pointer`: the user's current pointer item of this purpose (`keys.user_link_sk`), or None, when
    the caller has read it already (the mailer reads it with the user, in one call).
    """
    token = ids.token(32)
    token_hash = digest(token)
    expires = clock.epoch() + ttl_seconds
    if pointer is READ:
        pointer = table.get(keys.tenant_pk(tenant_id), keys.user_link_sk(user_id, purpose))
    if pointer:
        tx.delete(keys.link_token_pk(pointer["token_hash"]), keys.LINK_SK)
    tx.put(
        {
            "PK": keys.link_token_pk(token_hash),
            "SK": keys.LINK_SK,
            "entity": "link",
            "purpose": purpose,
            "tenant_id": tenant_id,
            "user_id": user_id,
            "expires_at": expires,
        }
    )
    tx.put(
        {
            "PK": keys.tenant_pk(tenant_id),
            "SK": keys.user_link_sk(user_id, purpose),
            "entity": "link_pointer",
            "token_hash": token_hash,
            "expires_at": expires,
        }
    )
    return token


def redeem(tx: Tx, token: str, purpose: str) -> dict[str, Any]:
    """The link's item, with its single use added to `tx`: committing twice fails the second."""
    item = table.get(keys.link_token_pk(digest(token)), keys.LINK_SK, consistent=True)
    if not item or item.get("purpose") != purpose:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    tx.delete(item["PK"], item["SK"], condition="attribute_exists(PK)", on_fail=KeelError(ErrorCode.SAAS_012))
    tx.delete(keys.tenant_pk(item["tenant_id"]), keys.user_link_sk(item["user_id"], purpose))
    return item
