"""What system e-mail each domain event sends."""

from __future__ import annotations

from collections.abc import Callable

from keel.core import clock
from keel.core.config import settings
from keel.core.observability import logger
from keel.core.ses import Mail, send
from keel.identity import links
from keel.mail import account as identity_mail
from keel.notifications import render, system_mail
from keel.store.outbox import DomainEvent
from keel.users import repo as users


def welcome_admin(event: DomainEvent) -> None:
    """tenant.created: the first admin gets a welcome with their activation link."""
    name = event.data.get("name", "")
    identity_mail.send_activation(
        event.data["tenant_id"],
        event.data["admin_user_id"],
        subject=f"Welcome to Keel: activate your {name} account".replace("  ", " "),
        intro=f"An account was created for you as the administrator of {name or 'your organisation'}.\n",
    )


# --- users and invitations (issue 4) ----------------------------------------------------------


def activate_created_user(event: DomainEvent) -> None:
    """user.created (by an admin or an accepted invitation): a pending user gets an activation link."""
    identity_mail.send_activation(
        event.data["tenant_id"],
        event.data["user_id"],
        subject="Your Keel account: activate it",
        intro="An account was created for you.\n",
    )


def verify_new_email(event: DomainEvent) -> None:
    """user.email_change_requested: a confirmation link goes to the new address."""
    from keel.users.service import EMAIL_CHANGE_SECONDS

    tenant_id, user_id = event.data["tenant_id"], event.data["user_id"]
    people = users.for_tenant(tenant_id)
    keys = people.link_keys(user_id, links.EMAIL_CHANGE)
    template, found = system_mail.read(tenant_id, "system.email_change", user_id, keys)
    user, pointer = people.with_link(found, user_id, links.EMAIL_CHANGE)
    if user is None or not user.pending_email:
        return
    token = links.issue_audited(
        tenant_id=tenant_id,
        user_id=user_id,
        purpose=links.EMAIL_CHANGE,
        ttl_seconds=EMAIL_CHANGE_SECONDS,
        action="user.email_change_sent",
        pointer=pointer,
    )
    link = f"{settings().public_base_url}/confirm-email?token={token}"
    built_in = Mail(
        to=user.pending_email,
        subject="Confirm your new e-mail address",
        text=(
            f"Hello {user.name},\n\nConfirm this address as your new login e-mail (the link expires in "
            f"24 hours):\n\n{link}\n\n"
            "Through the API: POST /users/email-change/confirm with the token.\n"
        ),
    )
    values = {"link": link, "new_email": user.pending_email}
    send(
        system_mail.restyled(
            template, tenant_id, "system.email_change", built_in, user=render.user_context(user), **values
        )
    )


def send_invitation(event: DomainEvent) -> None:
    """invitation.created / invitation.resent: the invitee gets a link that expires with the invitation."""
    from keel.invitations import repo as invitations

    tenant_id, invitation_id = event.data["tenant_id"], event.data["invitation_id"]
    invitation = invitations.for_tenant(tenant_id).get(invitation_id)
    if invitation is None or invitations.current_status(invitation) != "pending":
        logger.info("invitation mail not needed", extra={"invitation_id": invitation_id})
        return
    ttl = invitation.expires_epoch - clock.epoch()
    token = links.issue_audited(
        tenant_id=tenant_id,
        user_id=invitation.user_id,
        purpose=links.INVITATION,
        ttl_seconds=ttl,
        action="invitation.sent",
    )
    link = f"{settings().public_base_url}/invitations/accept?token={token}"
    built_in = Mail(
        to=invitation.email,
        subject=f"You are invited to {event.data.get('tenant_name') or 'Keel'}",
        text=(
            f"Hello {invitation.name or ''},\n\nYou are invited to join "
            f"{event.data.get('tenant_name') or 'your organisation'} as {invitation.role}.\n"
            f"Accept and choose your password here (expires {invitation.ends_at}):\n\n"
            f"{link}\n\n"
            "Through the API: POST /invitations/accept with the token and your password.\n"
        ),
    )
    first, _, last = (invitation.name or "").partition(" ")
    invitee = {
        "user_id": invitation.user_id,
        "name": invitation.name or "",
        "firstName": first,
        "lastName": last,
        "email": invitation.email,
        "phone": "",
        "role": invitation.role,
    }
    values = {"link": link, "expires_at": str(invitation.ends_at), "role": invitation.role}
    send(system_mail.styled(tenant_id, "system.invitation", built_in, user=invitee, **values))
    logger.info("invitation mail sent", extra={"invitation_id": invitation_id, "tenant_id": tenant_id})


# --- webhooks (issue 11) --------------------------------------------------------------------


def webhook_endpoint_alert(event: DomainEvent) -> None:
    """webhook.endpoint_failing / _disabling / _disabled: the tenant's admins are told."""
    from keel.core.permissions import ADMIN_ROLE, PLATFORM_KIND
    from keel.core.principal import PLATFORM_TENANT
    from keel.tenants import repo as tenants

    tenant_id, endpoint_id = event.data["tenant_id"], event.data["endpoint_id"]
    kind = PLATFORM_KIND if tenant_id == PLATFORM_TENANT else tenants.kind(tenant_id)
    admins = users.for_tenant(tenant_id)
    ids = admins.active_ids_with_role(ADMIN_ROLE.get(kind, ""), limit=20)
    what = {
        "webhook.endpoint_failing": (
            "Webhook endpoint failing",
            f"Deliveries to webhook endpoint {endpoint_id} started failing at "
            f"{event.data.get('failing_since')}. Keel keeps retrying; if every delivery fails until "
            f"{event.data.get('disable_at')}, the endpoint is disabled.",
        ),
        "webhook.endpoint_disabling": (
            "Webhook endpoint to be disabled",
            f"Webhook endpoint {endpoint_id} has failed every delivery since "
            f"{event.data.get('failing_since')}; it is disabled at {event.data.get('disable_at')} "
            "unless it recovers.",
        ),
        "webhook.endpoint_disabled": (
            "Webhook endpoint disabled",
            f"Webhook endpoint {endpoint_id} was disabled ({event.data.get('reason')}). Its failed "
            "messages are kept: enable it, then retry them (POST /webhooks/deliveries/retry-failed).",
        ),
    }[event.type]
    name = "system." + event.type.replace(".", "_")  # system.webhook_endpoint_failing...
    values = {
        k: str(event.data.get(k) or "")
        for k in ("endpoint_id", "failing_since", "disable_at", "reason")
        if k in system_mail.sample(name)
    }
    for user in admins.get_many(ids).values():
        built_in = Mail(to=user.email, subject=what[0], text=f"Hello {user.name},\n\n{what[1]}\n")
        send(system_mail.styled(tenant_id, name, built_in, user=render.user_context(user), **values))
    logger.info("webhook alert mailed", extra={"endpoint_id": endpoint_id, "admins": len(ids)})


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
    # webhooks (issue 11)
    "webhook.endpoint_failing": webhook_endpoint_alert,
    "webhook.endpoint_disabling": webhook_endpoint_alert,
    "webhook.endpoint_disabled": webhook_endpoint_alert,
}


def handle(event: DomainEvent) -> None:
    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.warning("no system mail for event type", extra={"event_type": event.type})
        return
    handler(event)
