"""Rendering what tenants write: Liquid (python-liquid), sandboxed, strict, escaped for e-mail.

Liquid has no attribute access into Python objects: templates see only the plain data given
(`user`, `tenant`, `event`, `data`), so a tenant's template cannot reach anything else. Unknown
variables are errors (strict undefined), found at save time by static analysis against the
variables each context offers, and at preview or send time by rendering. E-mail bodies are
HTML-escaped (autoescape); SMS, WhatsApp, push and in-app are plain text.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from keel.core.errors import KeelError, invalid

if TYPE_CHECKING:
    from liquid import Environment

# What each root offers. `event` and `data` are open (their keys depend on the event or send).
USER_FIELDS = frozenset({"firstName", "lastName", "name", "email", "phone", "role", "user_id"})
TENANT_FIELDS = frozenset({"name", "tenant_id", "plan"})
OPEN_ROOTS = frozenset({"event", "data"})
ROOTS = frozenset({"user", "tenant"}) | OPEN_ROOTS


@cache
def _env(html: bool) -> Environment:
    from liquid import Environment, StrictUndefined  # ~80 ms: only the code that renders pays it

    return Environment(undefined=StrictUndefined, autoescape=html)


@cache
def _compiled(source: str, html: bool) -> Any:
    return _env(html).from_string(source)


def _error(field: str, exc: Exception) -> KeelError:
    message = str(getattr(exc, "message", None) or (exc.args[0] if exc.args else exc)).splitlines()[0]
    return invalid(field, f"Template error: {message}")


def check(source: str | None, *, field: str, html: bool = False, roots: frozenset[str] = ROOTS) -> set[str]:
    """Parses `source` and checks every variable against what the contexts offer (422 naming it).

    `roots` narrows or widens the variables (system mail adds its `link` or `code`, which are plain
    values); returns the roots used."""
    if not source:
        return set()
    from liquid.exceptions import LiquidError

    try:
        template = _compiled(source, html)
        analysis = template.analyze()
    except LiquidError as exc:
        raise _error(field, exc) from exc
    for root, uses in analysis.variables.items():
        if root not in roots:
            offered = "user, tenant, event or data" if roots == ROOTS else ", ".join(sorted(roots))
            raise invalid(field, f"Unknown template variable {root!r}: use {offered}")
        for use in uses:
            segments = [str(s) for s in use.segments]
            if root in OPEN_ROOTS or len(segments) < 2:
                continue
            if root not in {"user", "tenant"}:
                raise invalid(
                    field, f"Unknown template variable {'.'.join(segments[:2])!r}: {root} has no fields"
                )
            allowed = USER_FIELDS if root == "user" else TENANT_FIELDS
            if segments[1] not in allowed:
                raise invalid(
                    field,
                    f"Unknown template variable {'.'.join(segments[:2])!r}: {root} has "
                    + ", ".join(sorted(allowed)),
                )
    return set(analysis.variables)


def render(source: str, context: dict[str, Any], *, field: str = "body", html: bool = False) -> str:
    """Renders with strict undefined: a variable missing from `context` is a 422 naming it."""
    from liquid.exceptions import LiquidError

    try:
        return str(_compiled(source, html).render(**context))
    except LiquidError as exc:
        raise _error(field, exc) from exc


def tenant_context(tenant_id: str, tenant: Any | None) -> dict[str, Any]:
    """What `tenant.*` offers for a tenant (its stored model, or None)."""
    return {
        "tenant_id": tenant_id,
        "name": tenant.name if tenant else "",
        "plan": tenant.plan if tenant else "",
    }


def user_context(user: Any | None, email: str | None = None, phone: str | None = None) -> dict[str, Any]:
    """What `user.*` offers for a user (or a fixed address)."""
    if user is None:
        return {"email": email or "", "phone": phone or "", "name": "", "firstName": "", "lastName": ""}
    first, _, last = user.name.partition(" ")
    return {
        "user_id": user.user_id,
        "name": user.name,
        "firstName": first,
        "lastName": last,
        "email": user.notification_email or user.email,
        "phone": user.phone or "",
        "role": user.role,
    }


SAMPLE: dict[str, Any] = {
    "user": {
        "user_id": "usr_sample",
        "name": "Ada Lovelace",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "phone": "+14155550100",
        "role": "pharmacist",
    },
    "tenant": {"tenant_id": "ten_sample", "name": "Harbour Pharmacy", "plan": "professional"},
    "event": {},
    "data": {},
}


# SMS length ----------------------------------------------------------------------------------

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def sms_info(text: str) -> dict[str, Any]:
    """Length, encoding and segment count as carriers count them (GSM-7: 160, or 153 per part when
    split; an extended character such as `€` takes two; anything else makes it UCS-2: 70, or 67,
    counted in UTF-16 units)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        length = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if length <= single else -(-length // part)
    return {"length": length, "encoding": encoding, "segments": segments if length else 0}
