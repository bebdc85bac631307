"""The pages behind the links in system e-mail: each shows a small form, and its form route does
what the JSON operation does (activate_account, accept_invitation, reset_password,
confirm_email_change), answering a page instead of JSON.

Opening a link changes nothing (mail scanners prefetch links); only submitting its form does.
"""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Form, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from keel.core.errors import KeelError
from keel.http import create_app, entrypoint, public, request_meta
from keel.pages import html

app = create_app()

Token = Annotated[str, Query(description="The one-time token from the e-mailed link", max_length=200)]
FormToken = Annotated[str, Form(max_length=200)]
FormPassword = Annotated[str, Form(max_length=1024)]


def _html(*statuses: int) -> dict[int, OpenAPIResponse]:
    page: OpenAPIResponse = {
        "description": "An HTML page",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
    return dict.fromkeys(statuses, page)


PAGE = _html(200, 400)  # the form, or "link incomplete"
# done, or the form again with the domain's reason at the JSON operation's status
FORM = _html(200, 400, 403, 404, 409, 410, 422, 429)
NEW_PASSWORD = html.Field("password", "New password")
BROKEN_LINK = (
    "This link is incomplete: open the whole link from the e-mail (or copy it into the address bar)."
)


def _page(token: str, render: Callable[[str], Response[str]]) -> Response[str]:
    if not html.well_formed(token):
        return html.message("Link incomplete", BROKEN_LINK, 400)
    return render(token)


def _submit(
    token: str,
    action: Callable[[], Any],
    done: Response[str],
    again: Callable[[str, str, int], Response[str]],
) -> Response[str]:
    """Runs the domain action; a refusal shows the form again with the reason and its status (a
    value the JSON operation's model refuses, such as an empty password, is 422 as it is there)."""
    from pydantic import ValidationError

    if not html.well_formed(token):
        return html.message("Link incomplete", BROKEN_LINK, 400)
    try:
        action()
    except ValidationError as exc:
        reasons = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return again(token, " ".join(["Please correct the form.", *reasons]), 422)
    except KeelError as exc:
        reasons = [
            str(d["message"]) for d in exc.details or [] if d.get("message") not in (None, exc.message)
        ]
        return again(token, " ".join([exc.message, *reasons]), exc.status)
    return done


# ---------------------------------------------------------------------------------------- activation


def _activation_form(token: str, error: str | None = None, status: int = 200) -> Response[str]:
    return html.form(
        "Activate your account",
        "Choose a password to activate your account.",
        action="/forms/activate",
        token=token,
        fields=[NEW_PASSWORD],
        submit="Activate",
        error=error,
        status=status,
    )


@app.get(
    "/activate", operation_id="show_activation_page", middlewares=[public()], tags=["pages"], responses=PAGE
)
def activation_page(token: Token = "") -> Response[str]:
    return _page(token, _activation_form)


@app.post(
    "/forms/activate",
    operation_id="submit_activation_form",
    middlewares=[public()],
    tags=["pages"],
    responses=FORM,
)
def submit_activation(token: FormToken, password: FormPassword) -> Response[str]:
    from keel.auth import service

    done = html.message(
        "Account activated", "Your account is active: sign in with your e-mail and this password."
    )
    return _submit(
        token, lambda: service.activate(token, password, request_meta(app)), done, _activation_form
    )


# ---------------------------------------------------------------------------------------- invitation


def _invitation_form(token: str, error: str | None = None, status: int = 200) -> Response[str]:
    return html.form(
        "Accept your invitation",
        "Choose a password to create your account (your name is optional: the invitation has one).",
        action="/forms/accept-invitation",
        token=token,
        fields=[
            html.Field("name", "Your name", type="text", autocomplete="name", required=False),
            NEW_PASSWORD,
        ],
        submit="Accept the invitation",
        error=error,
        status=status,
    )


@app.get(
    "/invitations/accept",
    operation_id="show_invitation_page",
    middlewares=[public()],
    tags=["pages"],
    responses=PAGE,
)
def invitation_page(token: Token = "") -> Response[str]:
    return _page(token, _invitation_form)


@app.post(
    "/forms/accept-invitation",
    operation_id="submit_invitation_form",
    middlewares=[public()],
    tags=["pages"],
    responses=FORM,
)
def submit_invitation(
    token: FormToken, password: FormPassword, name: Annotated[str, Form(max_length=120)] = ""
) -> Response[str]:
    from keel.core.principal import Principal
    from keel.invitations import service
    from keel.invitations.models import InvitationAccept

    def accept() -> None:
        body = InvitationAccept(token=token, password=password, name=name.strip() or None)
        service.accept(body, Principal.system(job="invitations").with_meta(request_meta(app)))

    done = html.message("Welcome", "Your account is ready: sign in with your e-mail and this password.")
    return _submit(token, accept, done, _invitation_form)


# ---------------------------------------------------------------------------------------- password reset


def _reset_form(token: str, error: str | None = None, status: int = 200) -> Response[str]:
    return html.form(
        "Choose a new password",
        "Your other sessions end when the password changes.",
        action="/forms/reset-password",
        token=token,
        fields=[NEW_PASSWORD],
        submit="Set the new password",
        error=error,
        status=status,
    )


@app.get(
    "/reset-password",
    operation_id="show_password_reset_page",
    middlewares=[public()],
    tags=["pages"],
    responses=PAGE,
)
def password_reset_page(token: Token = "") -> Response[str]:
    return _page(token, _reset_form)


@app.post(
    "/forms/reset-password",
    operation_id="submit_password_reset_form",
    middlewares=[public()],
    tags=["pages"],
    responses=FORM,
)
def submit_password_reset(token: FormToken, password: FormPassword) -> Response[str]:
    from keel.auth import recovery

    done = html.message("Password changed", "Sign in with your e-mail and the new password.")
    return _submit(token, lambda: recovery.reset(token, password, request_meta(app)), done, _reset_form)


# ---------------------------------------------------------------------------------------- e-mail change


def _email_change_form(token: str, error: str | None = None, status: int = 200) -> Response[str]:
    return html.form(
        "Confirm your new e-mail address",
        "Confirm to make this address the one you sign in with.",
        action="/forms/confirm-email",
        token=token,
        fields=[],
        submit="Confirm the address",
        error=error,
        status=status,
    )


@app.get(
    "/confirm-email",
    operation_id="show_email_change_page",
    middlewares=[public()],
    tags=["pages"],
    responses=PAGE,
)
def email_change_page(token: Token = "") -> Response[str]:
    return _page(token, _email_change_form)


@app.post(
    "/forms/confirm-email",
    operation_id="submit_email_change_form",
    middlewares=[public()],
    tags=["pages"],
    responses=FORM,
)
def submit_email_change(token: FormToken) -> Response[str]:
    from keel.core.principal import Principal
    from keel.users import service

    def confirm() -> None:
        service.confirm_email_change(token, Principal.system(job="email_change").with_meta(request_meta(app)))

    done = html.message("Address confirmed", "Sign in with your new e-mail address from now on.")
    return _submit(token, confirm, done, _email_change_form)


lambda_handler = entrypoint(app)
