"""System e-mail of the identity events. The mailer makes links and codes itself, so no secret
ever travels in an event; only hashes and ids do."""

from __future__ import annotations

from keel.core import clock
from keel.core.config import settings
from keel.core.observability import logger
from keel.core.ses import Mail, send
from keel.identity import links, mfa, repo
from keel.identity.tokens import code_digest
from keel.notifications import render, system_mail
from keel.store.outbox import DomainEvent
from keel.users import repo as users
from keel.users.models import User, UserStatus

RESET_LINK_SECONDS = 3600


def _link(
    tenant_id: str, user_id: str, purpose: str, ttl: int, action: str, template: str
) -> tuple[User, str, system_mail.Stored | None] | tuple[None, None, None]:
    """The user, a new link of `purpose` and the mail's stored `template` (None: the built-in
    text), or nothing when the user is not in the state for it.

    The user, their current link (the link issuer needs it) and the template are read in one call."""
    people = users.for_tenant(tenant_id)
    stored, found = system_mail.read(tenant_id, template, user_id, people.link_keys(user_id, purpose))
    user, pointer = people.with_link(found, user_id, purpose)
    wanted = UserStatus.PENDING_ACTIVATION if purpose == links.ACTIVATION else UserStatus.ACTIVE
    if user is None or user.status is not wanted:
        logger.info("link mail not needed", extra={"user_id": user_id, "purpose": purpose})
        return None, None, None
    token = links.issue_audited(
        tenant_id=tenant_id, user_id=user_id, purpose=purpose, ttl_seconds=ttl, action=action, pointer=pointer
    )
    return user, token, stored


def send_activation(tenant_id: str, user_id: str, *, subject: str, intro: str = "") -> None:
    """The activation mail (a new link, the previous one revoked) to a user still pending.

    One mail for the first admin of a tenant, a user an admin created and a resend; `intro`
    says why the account exists.
    """
    ttl = settings().activation_link_seconds
    user, token, template = _link(
        tenant_id, user_id, links.ACTIVATION, ttl, "user.activation_sent", "system.activation"
    )
    if user is None:
        return
    link = f"{settings().public_base_url}/activate?token={token}"
    built_in = Mail(
        to=user.email,
        subject=subject,
        text=(
            f"Hello {user.name},\n\n{intro}"
            "Activate your account and choose your password here (the link works once and expires "
            f"in {ttl // 86400} days):\n\n"
            f"{link}\n\n"
            "Through the API: POST /auth/activate with the token and your new password.\n"
        ),
    )
    values = {"link": link, "expires_days": str(ttl // 86400), "intro": intro.strip()}
    send(
        system_mail.restyled(
            template, tenant_id, "system.activation", built_in, user=render.user_context(user), **values
        )
    )
    logger.info("activation mail sent", extra={"user_id": user_id, "tenant_id": tenant_id})


def password_reset(event: DomainEvent) -> None:
    user, token, template = _link(
        event.data["tenant_id"],
        event.data["user_id"],
        links.PASSWORD_RESET,
        RESET_LINK_SECONDS,
        "user.password_reset_sent",
        "system.password_reset",
    )
    if user is None:
        return
    link = f"{settings().public_base_url}/reset-password?token={token}"
    built_in = Mail(
        to=user.email,
        subject="Reset your Keel password",
        text=(
            "Someone (hopefully you) asked to reset the password of this account.\n"
            "Choose a new password here (the link works once and expires in 1 hour):\n\n"
            f"{link}\n\n"
            "Through the API: POST /auth/password/reset with the token and your new password.\n"
            "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
        ),
    )
    tenant_id = event.data["tenant_id"]
    send(
        system_mail.restyled(
            template, tenant_id, "system.password_reset", built_in, user=render.user_context(user), link=link
        )
    )
    logger.info("password reset mail sent", extra={"user_id": event.data["user_id"]})


def activation(event: DomainEvent) -> None:
    """auth.activation_requested: the user asked for a new activation link."""
    send_activation(event.data["tenant_id"], event.data["user_id"], subject="Activate your Keel account")


def _user_and_template(
    tenant_id: str, user_id: str, template: str
) -> tuple[User | None, system_mail.Stored | None]:
    """The user and the mail's stored template (None: the built-in text), in one read."""
    people = users.for_tenant(tenant_id)
    stored, found = system_mail.read(tenant_id, template, user_id, [people.key(user_id)])
    return people.user_in(found, user_id), stored


def two_factor_code(event: DomainEvent) -> None:
    """A login challenge or an enrolment by e-mail: the code is made here and stored hashed."""
    tenant_id = event.data["tenant_id"]
    user, template = _user_and_template(tenant_id, event.data["user_id"], "system.two_factor_code")
    if user is None:
        return
    code = mfa.new_code()
    expires = clock.epoch() + mfa.CODE_SECONDS
    if not repo.set_code(event.data["pk"], event.data["sk"], code_digest(code), expires):
        logger.info("2fa code not needed any more", extra={"user_id": user.user_id})
        return
    built_in = Mail(
        to=user.email,
        subject="Your Keel verification code",
        text=f"Your verification code is {code}. It expires in 10 minutes.\n",
    )
    send(
        system_mail.restyled(
            template, tenant_id, "system.two_factor_code", built_in, user=render.user_context(user), code=code
        )
    )
    logger.info("2fa code mail sent", extra={"user_id": user.user_id})


def password_changed(event: DomainEvent) -> None:
    tenant_id = event.data["tenant_id"]
    user, template = _user_and_template(tenant_id, event.data["user_id"], "system.password_changed")
    if user is None:
        return
    built_in = Mail(
        to=user.email,
        subject="Your Keel password was changed",
        text="The password of your account was just changed. If this was not you, reset it now.\n",
    )
    send(
        system_mail.restyled(
            template, tenant_id, "system.password_changed", built_in, user=render.user_context(user)
        )
    )
