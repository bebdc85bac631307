"""What system e-mail each domain event sends."""

from __future__ import annotations

from collections.abc import Callable

from keel.auth import links
from keel.auth import mailers as identity_mail
from keel.core.config import settings
from keel.core.observability import logger
from keel.core.principal import Principal
from keel.mail.sender import Mail, send
from keel.store.change import Change
from keel.store.outbox import DomainEvent
from keel.users import repo as users
from keel.users.models import UserStatus


def welcome_admin(event: DomainEvent) -> None:
    """tenant.created: the first admin gets a welcome with their activation link."""
    tenant_id, user_id = event.data["tenant_id"], event.data["admin_user_id"]
    user = users.get(tenant_id, user_id)
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


HANDLERS: dict[str, Callable[[DomainEvent], None]] = {
    "tenant.created": welcome_admin,
    # identity and security (issue 3)
    "auth.password_reset_requested": identity_mail.password_reset,
    "auth.activation_requested": identity_mail.activation,
    "auth.two_factor_code": identity_mail.two_factor_code,
    "auth.password_changed": identity_mail.password_changed,
}


def handle(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.warning("no system mail for event type", extra={"event_type": event.type})
        return
    handler(event)
