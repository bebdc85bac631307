"""One-time links (activation, password reset, e-mail change, invitation): single use, expiring,
revocable. The one place links are issued, revoked and redeemed.

The link item is found by the token's hash; a pointer under the user names the current link of
each purpose, so issuing a new one deletes the old one in the same transaction.
"""

from __future__ import annotations

from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal
from keel.identity import repo
from keel.identity.tokens import digest
from keel.store.change import Change, Tx

# purposes
ACTIVATION = "activation"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
EMAIL_CHANGE = "email_change"
INVITATION = "invitation"  # issued for the invitation's future user (`invitations.repo.of_user`)


def revoke(tx: Tx, *, tenant_id: str, user_id: str, purpose: str) -> bool:
    """Adds the deletion of the user's current link of `purpose` (if any) to `tx`."""
    pointer = repo.for_tenant(tenant_id).link_pointer(user_id, purpose)
    if not pointer:
        return False
    repo.drop_link(tx, pointer["token_hash"])
    repo.IdentityRepo.drop_link_pointer(tx, pointer)
    return True


READ: Any = object()  # `issue(pointer=READ)`: the issuer reads the current pointer itself


def issue(
    tx: Tx, *, tenant_id: str, user_id: str, purpose: str, ttl_seconds: int, pointer: Any = READ
) -> str:
    """Adds a new link to `tx` (revoking the user's previous one of this purpose); returns the token.

    `pointer`: the user's current pointer item of this purpose (`repo.for_tenant(t).link_pointer`), or
    None, when the caller has read it already (the mailer reads it with the user, in one call).
    """
    token = ids.token(32)
    token_hash = digest(token)
    expires = clock.epoch() + ttl_seconds
    if pointer is READ:
        pointer = repo.for_tenant(tenant_id).link_pointer(user_id, purpose)
    if pointer:  # the pointer itself is overwritten below
        repo.drop_link(tx, pointer["token_hash"])
    repo.add_link(
        tx,
        token_hash,
        {"purpose": purpose, "tenant_id": tenant_id, "user_id": user_id, "expires_at": expires},
    )
    repo.for_tenant(tenant_id).put_link_pointer(tx, user_id, purpose, token_hash, expires)
    return token


def issue_audited(
    *, tenant_id: str, user_id: str, purpose: str, ttl_seconds: int, action: str, pointer: Any = READ
) -> str:
    """A link issued on its own by the system mailer, with its audit record (`action`, e.g.
    `user.activation_sent`), in one transaction; returns the token to put in the e-mail.
    `pointer` as for `issue`."""
    change = Change(Principal.system(tenant_id, "mailer"))
    token = issue(
        change.tx,
        tenant_id=tenant_id,
        user_id=user_id,
        purpose=purpose,
        ttl_seconds=ttl_seconds,
        pointer=pointer,
    )
    change.audit(
        action,
        event_type=action.rsplit(".", maxsplit=1)[-1],
        tenant_id=tenant_id,
        target_type="user",
        target_id=user_id,
    )
    change.commit()
    return token


def redeem(tx: Tx, token: str, purpose: str) -> dict[str, Any]:
    """The link's item, with its single use added to `tx`: committing twice fails the second."""
    item = repo.link(digest(token))
    if not item or item.get("purpose") != purpose:
        raise KeelError(ErrorCode.SAAS_012, "This link is invalid, used or expired")
    repo.use_link(tx, item, on_fail=KeelError(ErrorCode.SAAS_012))
    return item
