"""System mail an operator restyles: a reserved e-mail template per system mail.

A tenant admin saves `system.activation`, `system.password_reset`... with create_template (channel
email, any locale: a user gets their notification preferences' locale, else its language, else
English; the same Liquid engine, strict variables and HTML escaping as every template); the
platform's applies to every tenant without its own. The mailer renders it instead of its built-in
text. Besides `user` and `tenant` each mail offers plain values (its `link` or `code`), and a
template that does not use the value its mail exists for is refused at save time: a restyled reset
mail still resets.
A stored template that fails to render (or hides the link) never stops the mail: the built-in text
goes out and the failure is logged (never the body, link or code).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from keel.core.errors import KeelError, invalid
from keel.core.observability import logger
from keel.core.ses import Mail
from keel.notifications import render, repo

PREFIX = "system."


@dataclass(frozen=True)
class SystemMail:
    required: str | None  # the value the mail exists for: the template must use it
    values: dict[str, str]  # its plain variables besides user and tenant, with preview samples


SYSTEM_MAILS: dict[str, SystemMail] = {
    "system.activation": SystemMail(
        "link",
        {"link": "https://app.example.com/activate?token=sample", "expires_days": "7", "intro": ""},
    ),
    "system.invitation": SystemMail(
        "link",
        {
            "link": "https://app.example.com/invitations/accept?token=sample",
            "expires_at": "2030-01-08T00:00:00Z",
            "role": "pharmacist",
        },
    ),
    "system.password_reset": SystemMail(
        "link", {"link": "https://app.example.com/reset-password?token=sample"}
    ),
    "system.email_change": SystemMail(
        "link",
        {"link": "https://app.example.com/confirm-email?token=sample", "new_email": "new@example.com"},
    ),
    "system.two_factor_code": SystemMail("code", {"code": "123456"}),
    "system.password_changed": SystemMail(None, {}),
    # to the tenant's admins, about one of its webhook endpoints (keel.webhooks)
    "system.webhook_endpoint_failing": SystemMail(
        "endpoint_id",
        {
            "endpoint_id": "wep_sample",
            "failing_since": "2030-01-01T00:00:00Z",
            "disable_at": "2030-01-06T00:00:00Z",
        },
    ),
    "system.webhook_endpoint_disabling": SystemMail(
        "endpoint_id",
        {
            "endpoint_id": "wep_sample",
            "failing_since": "2030-01-01T00:00:00Z",
            "disable_at": "2030-01-06T00:00:00Z",
        },
    ),
    "system.webhook_endpoint_disabled": SystemMail(
        "endpoint_id", {"endpoint_id": "wep_sample", "reason": "failing"}
    ),
}


def _roots(spec: SystemMail) -> frozenset[str]:
    return frozenset({"user", "tenant", *spec.values})


def check(name: str, channel: str, subject: str | None, body: str) -> bool:
    """Save-time rules of a reserved name (422 naming the field). False for any other name."""
    if not name.startswith(PREFIX):
        return False
    spec = SYSTEM_MAILS.get(name)
    if spec is None:
        raise invalid("name", f"Unknown system template {name!r}: one of " + ", ".join(sorted(SYSTEM_MAILS)))
    if channel != "email":
        raise invalid("channel", "System templates are e-mail templates")
    render.check(subject, field="subject", roots=_roots(spec))
    used = render.check(body, field="body", html=True, roots=_roots(spec))
    if spec.required and spec.required not in used:
        raise invalid("body", f"A {name} template must use {{{{ {spec.required} }}}}")
    return True


def sample(name: str) -> dict[str, Any]:
    """Preview values of a system template's own variables."""
    spec = SYSTEM_MAILS.get(name)
    return dict(spec.values) if spec else {}


@dataclass(frozen=True)
class Stored:
    """A system mail's stored template and the tenant context it renders with."""

    template: dict[str, Any]
    tenant: dict[str, Any]


def read(
    tenant_id: str, name: str, user_id: str | None, others: list[tuple[str, str]]
) -> tuple[Stored | None, dict[tuple[str, str], dict[str, Any]]]:
    """The template `name` for the user with the tenant it renders for (None: the built-in text),
    and the items of `others` (keys other areas' repos give), in one read: a mail that reads its
    user anyway pays nothing for its template. Hand the result to `restyled`."""
    from keel.tenants import repo as tenants

    tenant_key = tenants.for_tenant(tenant_id).key
    template, found = repo.system_template(tenant_id, name, user_id, [*others, tenant_key])
    if template is None:
        return None, found
    tenant = tenants.from_item(found[tenant_key]) if tenant_key in found else None
    return Stored(template, render.tenant_context(tenant_id, tenant)), found


def styled(tenant_id: str, name: str, built_in: Mail, *, user: dict[str, Any], **values: str) -> Mail:
    """The tenant's (else the platform's) template `name` in the user's locale (else English)
    rendered for this mail, else `built_in`."""
    try:
        stored, _ = read(tenant_id, name, user.get("user_id"), [])
    except Exception as exc:  # a template never stops the mail
        logger.warning(
            "system template not read: built-in text sent",
            extra={"template": name, "tenant_id": tenant_id, "reason": type(exc).__name__},
        )
        return built_in
    return restyled(stored, tenant_id, name, built_in, user=user, **values)


def restyled(
    stored: Stored | None,
    tenant_id: str,
    name: str,
    built_in: Mail,
    /,
    *,
    user: dict[str, Any],
    **values: str,
) -> Mail:
    """The stored template (read by `read`) rendered for this mail, else `built_in`."""
    spec = SYSTEM_MAILS[name]
    if stored is None:
        return built_in
    template = stored.template
    try:
        context = {"user": user, "tenant": stored.tenant, **{k: values.get(k, "") for k in spec.values}}
        text = render.render(template["body"], context)
        body = render.render(template["body"], context, html=True)
        subject = template.get("subject")
        title = render.render(subject, context, field="subject").strip() if subject else built_in.subject
        if spec.required and html.escape(values[spec.required]) not in body:
            raise invalid("body", f"The rendered mail does not show its {spec.required}")
    except Exception as exc:  # a broken template never stops the mail
        reason = exc.message if isinstance(exc, KeelError) else type(exc).__name__
        logger.warning(
            "system template not used: built-in text sent",
            extra={"template": name, "tenant_id": tenant_id, "reason": reason},
        )
        return built_in
    return Mail(to=built_in.to, subject=title or built_in.subject, text=text, html=body)
