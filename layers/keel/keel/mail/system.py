"""What system e-mail each domain event sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.auth import links
from keel.auth import mailers as identity_mail
from keel.core import clock
from keel.core.config import settings
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.mail.sender import Mail, send
from keel.store import keys
from keel.store.change import Change
from keel.store.outbox import DomainEvent
from keel.users import repo as users
from keel.users.models import UserStatus


def welcome_admin(event: DomainEvent) -> None:
    """tenant.created: the first admin gets a welcome with their activation link."""
    tenant_id, user_id = event.data["tenant_id"], event.data["admin_user_id"]
    user, pointer = users.get_with_item(tenant_id, user_id, keys.user_link_sk(user_id, links.ACTIVATION))
    if user is None or user.status is not UserStatus.PENDING_ACTIVATION:
        logger.info("activation mail not needed", extra={"user_id": user_id})
        return
    change = Change(Principal.system(tenant_id, "mailer"))
    token = links.issue(
        change.tx,
        tenant_id=tenant_id,
        user_id=user_id,
        purpose=links.ACTIVATION,
        ttl_seconds=settings().activation_link_seconds,
        pointer=pointer,
    )
    change.audit(
        "user.activation_sent",
        event_type="activation_sent",
        tenant_id=tenant_id,
        target_type="user",
        target_id=user_id,
    )
    change.commit()
    link = f"{settings().public_base_url}/activate?token={token}"
    send(
        Mail(
            to=user.email,
            subject=f"Welcome to Keel: activate your {event.data.get('name', '')} account".strip(),
            text=(
                f"Hello {user.name},\n\n"
                "An account was created for you as the administrator of "
                f"{event.data.get('name', 'your organisation')}.\n"
                "Activate it and choose your password here (the link works once and expires in 7 days):\n\n"
                f"{link}\n\n"
                "Through the API: POST /auth/activate with the token and your new password.\n"
            ),
        )
    )
    logger.info("activation mail sent", extra={"user_id": user_id, "tenant_id": tenant_id})


# --- users and invitations (issue 4) ----------------------------------------------------------


def _issue_link(
    tenant_id: str, user_id: str, purpose: str, ttl_seconds: int, action: str, pointer: Any = None
) -> str:
    """`pointer`: the user's current link of `purpose`, read with the user (None: there is none)."""
    change = Change(Principal.system(tenant_id, "mailer"))
    token = links.issue(
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


def activate_created_user(event: DomainEvent) -> None:
    """user.created (by an admin): the new user gets an activation link."""
    tenant_id, user_id = event.data["tenant_id"], event.data["user_id"]
    user, pointer = users.get_with_item(tenant_id, user_id, keys.user_link_sk(user_id, links.ACTIVATION))
    if user is None or user.status is not UserStatus.PENDING_ACTIVATION:
        return
    ttl = settings().activation_link_seconds
    token = _issue_link(tenant_id, user_id, links.ACTIVATION, ttl, "user.activation_sent", pointer)
    send(
        Mail(
            to=user.email,
            subject="Your Keel account: activate it",
            text=(
                f"Hello {user.name},\n\nAn account was created for you. Activate it and choose your password "
                f"here (the link works once and expires in {ttl // 86400} days):\n\n"
                f"{settings().public_base_url}/activate?token={token}\n\n"
                "Through the API: POST /auth/activate with the token and your new password.\n"
            ),
        )
    )
    logger.info("activation mail sent", extra={"user_id": user_id, "tenant_id": tenant_id})


def verify_new_email(event: DomainEvent) -> None:
    """user.email_change_requested: a confirmation link goes to the new address."""
    from keel.users.service import EMAIL_CHANGE, EMAIL_CHANGE_SECONDS

    tenant_id, user_id = event.data["tenant_id"], event.data["user_id"]
    user, pointer = users.get_with_item(tenant_id, user_id, keys.user_link_sk(user_id, EMAIL_CHANGE))
    if user is None or not user.pending_email:
        return
    token = _issue_link(
        tenant_id, user_id, EMAIL_CHANGE, EMAIL_CHANGE_SECONDS, "user.email_change_sent", pointer
    )
    send(
        Mail(
            to=user.pending_email,
            subject="Confirm your new e-mail address",
            text=(
                f"Hello {user.name},\n\nConfirm this address as your new login e-mail (the link expires in "
                f"24 hours):\n\n{settings().public_base_url}/confirm-email?token={token}\n\n"
                "Through the API: POST /users/email-change/confirm with the token.\n"
            ),
        )
    )


def send_invitation(event: DomainEvent) -> None:
    """invitation.created / invitation.resent: the invitee gets a link that expires with the invitation."""
    from keel.invitations import repo as invitations

    tenant_id, invitation_id = event.data["tenant_id"], event.data["invitation_id"]
    invitation = invitations.get(tenant_id, invitation_id)
    if invitation is None or invitations.current_status(invitation) != "pending":
        logger.info("invitation mail not needed", extra={"invitation_id": invitation_id})
        return
    ttl = invitation.expires_epoch - clock.epoch()
    token = _issue_link(
        tenant_id, invitation.user_id, invitations.PURPOSE, ttl, "invitation.sent", links.READ
    )
    send(
        Mail(
            to=invitation.email,
            subject=f"You are invited to {event.data.get('tenant_name') or 'Keel'}",
            text=(
                f"Hello {invitation.name or ''},\n\nYou are invited to join "
                f"{event.data.get('tenant_name') or 'your organisation'} as {invitation.role}.\n"
                f"Accept and choose your password here (expires {invitation.ends_at}):\n\n"
                f"{settings().public_base_url}/invitations/accept?token={token}\n\n"
                "Through the API: POST /invitations/accept with the token and your password.\n"
            ),
        )
    )
    logger.info("invitation mail sent", extra={"invitation_id": invitation_id, "tenant_id": tenant_id})


HANDLERS: dict[str, Callable[[DomainEvent], None]] = {
    "tenant.created": welcome_admin,
    # identity and security (issue 3)
    "auth.password_reset_requested": identity_mail.password_reset,
    "auth.activation_requested": identity_mail.activation,
    "auth.two_factor_code": identity_mail.two_factor_code,
    "auth.password_changed": identity_mail.password_changed,
    # users and invitations (issue 4)
    "user.created": activate_created_user,
    "user.email_change_requested": verify_new_email,
    "invitation.created": send_invitation,
    "invitation.resent": send_invitation,
}


def handle(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.warning("no system mail for event type", extra={"event_type": event.type})
        return
    handler(event)
