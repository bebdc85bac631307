"""Minimal, safe HTML: every value escaped, no script, one hashed style, no referrer.

A link's page is a plain form that POSTs to a form route of the same API; the token travels in a
hidden field, never in a URL the page links to, and `Referrer-Policy: no-referrer` keeps the
link's own URL (which holds the token) out of any request the page makes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from html import escape

from aws_lambda_powertools.event_handler import Response

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f5f4;color:#1c1917}"
    "main{max-width:26rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px}"
    "label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}"
    "button{margin-top:1.5rem;padding:.6rem 1.2rem}.error{color:#b91c1c}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_TOKEN = re.compile(r"[A-Za-z0-9_-]{10,200}")


def well_formed(token: str) -> bool:
    """A token as links carry it (checked before it is put in a page; redeeming checks the rest)."""
    return _TOKEN.fullmatch(token) is not None


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "password"
    autocomplete: str = "new-password"
    required: bool = True


def _page(title: str, content: str, status: int) -> Response[str]:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)} - Keel</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{content}</main></body></html>"
    )
    return Response(
        status_code=status, body=body, content_type="text/html; charset=utf-8", headers=dict(HEADERS)
    )


def message(title: str, text: str, status: int = 200) -> Response[str]:
    return _page(title, f"<p>{escape(text)}</p>", status)


def form(
    title: str,
    intro: str,
    *,
    action: str,
    token: str,
    fields: list[Field],
    submit: str,
    error: str | None = None,
    status: int = 200,
) -> Response[str]:
    """A page with one form POSTing `token` and `fields` (urlencoded) to `action`."""
    parts = [f"<p>{escape(intro)}</p>"]
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    parts.append(f'<form method="post" action="{escape(action)}">')
    parts.append(f'<input type="hidden" name="token" value="{escape(token)}">')
    for f in fields:
        required = " required" if f.required else ""
        parts.append(
            f'<label for="{escape(f.name)}">{escape(f.label)}</label>'
            f'<input id="{escape(f.name)}" name="{escape(f.name)}" type="{escape(f.type)}" '
            f'autocomplete="{escape(f.autocomplete)}"{required}>'
        )
    parts.append(f'<button type="submit">{escape(submit)}</button></form>')
    return _page(title, "".join(parts), status)
