"""System e-mail of the identity events. The mailer makes links and codes itself, so no secret
ever travels in an event; only hashes and ids do."""

from __future__ import annotations

from keel.auth import links, mfa
from keel.auth.tokens import code_digest
from keel.core import clock
from keel.core.config import settings
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.mail.sender import Mail, send
from keel.store import keys, table
from keel.store.change import Change
from keel.store.outbox import DomainEvent
from keel.users import repo as users
from keel.users.models import UserStatus

RESET = "password_reset"
RESET_LINK_SECONDS = 3600


def _link(event: DomainEvent, purpose: str, ttl: int, action: str) -> tuple[str, str] | None:
    tenant_id, user_id = event.data["tenant_id"], event.data["user_id"]
    user, pointer = users.get_with_item(tenant_id, user_id, keys.user_link_sk(user_id, purpose))
    wanted = UserStatus.PENDING_ACTIVATION if purpose == links.ACTIVATION else UserStatus.ACTIVE
    if user is None or user.status is not wanted:
        logger.info("link mail not needed", extra={"user_id": user_id, "purpose": purpose})
        return None
    change = Change(Principal.system(tenant_id, "mailer"))
    token = links.issue(
        change.tx, tenant_id=tenant_id, user_id=user_id, purpose=purpose, ttl_seconds=ttl, pointer=pointer
    )
    change.audit(
        action,
        event_type=action.rsplit(".", maxsplit=1)[-1],
        tenant_id=tenant_id,
        target_type="user",
        target_id=user_id,
    )
    change.commit()
    return user.email, token


def password_reset(event: DomainEvent) -> None:
    found = _link(event, RESET, RESET_LINK_SECONDS, "user.password_reset_sent")
    if not found:
        return
    email, token = found
    send(
        Mail(
            to=email,
            subject="Reset your Keel password",
            text=(
                "Someone (hopefully you) asked to reset the password of this account.\n"
                "Choose a new password here (the link works once and expires in 1 hour):\n\n"
                f"{settings().public_base_url}/reset-password?token={token}\n\n"
                "Through the API: POST /auth/password/reset with the token and your new password.\n"
                "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
            ),
        )
    )
    logger.info("password reset mail sent", extra={"user_id": event.data["user_id"]})


def activation(event: DomainEvent) -> None:
    found = _link(event, links.ACTIVATION, settings().activation_link_seconds, "user.activation_sent")
    if not found:
        return
    email, token = found
    send(
        Mail(
            to=email,
            subject="Activate your Keel account",
            text=(
                "Activate your account and choose your password here"
                " (the link works once, expires in 7 days):\n\n"
                f"{settings().public_base_url}/activate?token={token}\n\n"
                "Through the API: POST /auth/activate with the token and your new password.\n"
            ),
        )
    )
    logger.info("activation mail sent", extra={"user_id": event.data["user_id"]})


def two_factor_code(event: DomainEvent) -> None:
    """A login challenge or an enrolment by e-mail: the code is made here and stored hashed."""
    user = users.get(event.data["tenant_id"], event.data["user_id"])
    if user is None:
        return
    code = mfa.new_code()
    try:
        table.update(
            event.data["pk"],
            event.data["sk"],
            "SET code_hash = :h, code_expires = :exp",
            values={":h": code_digest(code), ":exp": clock.epoch() + mfa.CODE_SECONDS},
            condition="attribute_exists(PK)",
        )
    except KeelError:
        logger.info("2fa code not needed any more", extra={"user_id": user.user_id})
        return
    send(
        Mail(
            to=user.email,
            subject="Your Keel verification code",
            text=f"Your verification code is {code}. It expires in 10 minutes.\n",
        )
    )
    logger.info("2fa code mail sent", extra={"user_id": user.user_id})


def password_changed(event: DomainEvent) -> None:
    user = users.get(event.data["tenant_id"], event.data["user_id"])
    if user is None:
        return
    send(
        Mail(
            to=user.email,
            subject="Your Keel password was changed",
            text="The password of your account was just changed. If this was not you, reset it now.\n",
        )
    )
