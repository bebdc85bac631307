"""System mail through the notification templates: a tenant's (or the platform's) reserved
`system.*` e-mail template restyles it; absent or broken, the built-in text goes out."""

from __future__ import annotations

from tests.support.actors import login, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.mail import last_mail_to, mailed_token
from tests.support.pipeline import Pipeline

RESET = {
    "name": "system.password_reset",
    "channel": "email",
    "subject": "{{ tenant.name }}: your new password",
    "body": '<p>Hi {{ user.firstName }} of {{ tenant.name }}</p><a href="{{ link }}">Reset</a>',
}


def _reset_mail(api: Api, email: str):  # type: ignore[no-untyped-def]
    assert api.post("/auth/password/forgot", {"email": email}).status == 202
    Pipeline(api.stack).run()
    return last_mail_to(api, email)


def test_a_tenants_reset_template_restyles_its_mail_and_the_link_still_works(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, name="Beta Pharmacy", email="boss@beta.example.com")
    saved = api.post("/notifications/templates", RESET, token=boss.token)
    assert saved.status == 201, saved.text

    mail = _reset_mail(api, boss.email)
    assert mail.subject == "Acme Pharmacy: your new password"
    assert "<p>Hi Boss of Acme Pharmacy</p>" in mail.body
    assert "Someone (hopefully you)" not in mail.body
    token = mailed_token(api, boss.email)
    reset = api.post("/auth/password/reset", {"token": token, "new_password": "An0ther-Long-Passw0rd!"})
    assert reset.status in {200, 204}, reset.text
    assert login(api, boss.email, "An0ther-Long-Passw0rd!").user_id == boss.user_id

    # another tenant's override is not used: Beta gets the built-in text
    theirs = _reset_mail(api, other.email)
    assert theirs.subject == "Reset your Keel password"
    assert "Someone (hopefully you)" in theirs.body
    assert "Acme" not in theirs.body


def test_without_a_template_the_built_in_text_goes_out(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    mail = _reset_mail(api, boss.email)
    assert mail.subject == "Reset your Keel password"
    assert "Someone (hopefully you)" in mail.body
    assert mailed_token(api, boss.email)


def test_the_platforms_template_applies_to_tenants_without_their_own(api: Api) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    platform = {**RESET, "subject": "Keel platform reset", "body": "Platform style: {{ link }}"}
    assert api.post("/notifications/templates", platform, token=root.token).status == 201
    mail = _reset_mail(api, boss.email)
    assert mail.subject == "Keel platform reset"
    assert mail.body.startswith("Platform style: ")
    assert mailed_token(api, boss.email)
    own = {**RESET, "subject": "Acme's own", "body": "Acme: {{ link }}"}
    assert api.post("/notifications/templates", own, token=boss.token).status == 201
    assert _reset_mail(api, boss.email).subject == "Acme's own"  # the tenant's wins


def test_a_system_template_without_its_link_or_with_unknown_variables_is_refused(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    before = api.stack.scan()
    cases = [
        ({**RESET, "body": "Reset your password on our site."}, "body", "{{ link }}"),
        ({**RESET, "name": "system.two_factor_code", "body": "Your code: {{ link }}"}, "body", "'link'"),
        ({**RESET, "name": "system.two_factor_code", "body": "Welcome"}, "body", "{{ code }}"),
        ({**RESET, "body": "{{ link }} {{ data.x }}"}, "body", "'data'"),
        ({**RESET, "body": "{{ link.host }}"}, "body", "link.host"),
        ({**RESET, "subject": "{{ code }}"}, "subject", "'code'"),
        ({**RESET, "channel": "sms"}, "channel", "e-mail"),
        ({**RESET, "name": "system.nope"}, "name", "system.password_reset"),
    ]
    for body, field, says in cases:
        reply = api.post("/notifications/templates", body, token=boss.token)
        assert (reply.status, reply.code) == (422, "API_007"), (body, reply.text)
        assert reply.json["error"]["details"][0]["field"] == field, reply.text
        assert says in reply.text, reply.text
    assert api.stack.scan() == before

    saved = api.post("/notifications/templates", RESET, token=boss.token).json
    dropped = api.patch(
        f"/notifications/templates/{saved['template_id']}", {"body": "No link here"}, token=boss.token
    )
    assert (dropped.status, dropped.json["error"]["details"][0]["field"]) == (422, "body")
    preview = api.post(
        "/notifications/templates/preview", {"template_id": saved["template_id"]}, token=boss.token
    )
    assert preview.status == 200, preview.text
    assert "reset-password?token=sample" in preview.json["body"]


def test_a_template_that_fails_or_hides_the_link_at_send_time_falls_back_to_the_built_in_text(
    api: Api,
) -> None:
    boss = tenant_admin(api, super_admin(api))
    hidden = {**RESET, "body": "{% if false %}{{ link }}{% endif %}Nothing to click"}
    assert api.post("/notifications/templates", hidden, token=boss.token).status == 201
    mail = _reset_mail(api, boss.email)
    assert mail.subject == "Reset your Keel password"
    assert "Someone (hopefully you)" in mail.body
    assert mailed_token(api, boss.email)


def test_a_user_gets_the_template_of_their_locale_else_its_language_else_english(api: Api) -> None:
    """The reset mail in the user's notification locale: `fr-CA` finds the tenant's `fr` (its
    language) before the English one; the platform's `fr` comes after the tenant's `fr`; a locale
    with no template falls back to English."""
    root = super_admin(api)
    boss = tenant_admin(api, root)
    english = {**RESET, "subject": "Acme reset", "body": "Acme: {{ link }}"}
    french = {**RESET, "locale": "fr", "subject": "Acme : nouveau mot de passe", "body": "Acme : {{ link }}"}
    platform_fr = {**RESET, "locale": "fr", "subject": "Keel : mot de passe", "body": "Keel : {{ link }}"}
    for body, who in ((english, boss), (platform_fr, root), (french, boss)):
        saved = api.post("/notifications/templates", body, token=who.token)
        assert saved.status == 201, saved.text

    assert _reset_mail(api, boss.email).subject == "Acme reset"  # no locale set: English
    prefs = api.call("PUT", "/notifications/preferences", json_body={"locale": "fr-CA"}, token=boss.token)
    assert prefs.status == 200, prefs.text
    mail = _reset_mail(api, boss.email)
    assert mail.subject == "Acme : nouveau mot de passe"
    token = mailed_token(api, boss.email)  # the link still works
    reset = api.post("/auth/password/reset", {"token": token, "new_password": "An0ther-Long-Passw0rd!"})
    assert reset.status in {200, 204}, reset.text

    again = login(api, boss.email, "An0ther-Long-Passw0rd!")  # the reset ended the old session
    prefs = api.call("PUT", "/notifications/preferences", json_body={"locale": "de"}, token=again.token)
    assert prefs.status == 200, prefs.text
    assert _reset_mail(api, boss.email).subject == "Acme reset"


def test_saved_activation_and_invitation_templates_restyle_those_mails(api: Api) -> None:
    """The platform restyles activation (a new tenant's admin) and a tenant its invitations; both
    links still work."""
    root = super_admin(api)
    activation = {
        "name": "system.activation",
        "channel": "email",
        "subject": "Welcome to {{ tenant.name }}",
        "body": "Hello {{ user.firstName }}, start here: {{ link }} ({{ expires_days }} days)",
    }
    assert api.post("/notifications/templates", activation, token=root.token).status == 201
    boss = tenant_admin(api, root)  # activates through the restyled mail's link
    welcome = last_mail_to(api, boss.email)
    assert welcome.subject == "Welcome to Acme Pharmacy"
    assert welcome.body.startswith("Hello Boss, start here: ")

    invitation = {
        "name": "system.invitation",
        "channel": "email",
        "subject": "Join {{ tenant.name }} as {{ role }}",
        "body": "You are invited: {{ link }}",
    }
    assert api.post("/notifications/templates", invitation, token=boss.token).status == 201
    invited = api.post(
        "/invitations", {"email": "pat@acme.example.com", "role": "pharmacist"}, token=boss.token
    )
    assert invited.status == 201, invited.text
    Pipeline(api.stack).run()
    mail = last_mail_to(api, "pat@acme.example.com")
    assert mail.subject == "Join Acme Pharmacy as pharmacist"
    token = mailed_token(api, "pat@acme.example.com")
    accepted = api.post(
        "/invitations/accept", {"token": token, "name": "Pat", "password": "An0ther-Long-Passw0rd!"}
    )
    assert accepted.status in {200, 201}, accepted.text


def test_a_restyled_two_factor_mail_carries_a_working_code_and_reads_user_and_template_together(
    api: Api,
) -> None:
    """The 2FA code mail reads the user, the template and the user's locale in one BatchGetItem
    (no separate user read), renders the tenant's template, and its code confirms the enrolment."""
    from keel.core import aws
    from tests.support.identity import mailed_code

    boss = tenant_admin(api, super_admin(api))
    styled = {
        "name": "system.two_factor_code",
        "channel": "email",
        "subject": "{{ tenant.name }} code",
        "body": "Code for {{ user.firstName }}: {{ code }}",
    }
    assert api.post("/notifications/templates", styled, token=boss.token).status == 201
    pipe = Pipeline(api.stack)
    pipe.run()  # what came before (this pipeline reads the stream from its start)
    assert api.post("/auth/2fa/enroll", {"method": "email"}, token=boss.token).status == 200
    pipe.relay()
    calls: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name), unique_id="count-2fa-mail"
    )
    try:
        assert pipe.mail()[0] == 1
    finally:
        aws.client("dynamodb").meta.events.unregister("before-call.dynamodb.*", unique_id="count-2fa-mail")
    # idempotency in, the user + template + locale, the code's hash, idempotency done
    assert calls == ["PutItem", "BatchGetItem", "UpdateItem", "UpdateItem"], calls
    mail = last_mail_to(api, boss.email)
    assert mail.subject == "Acme Pharmacy code"
    assert mail.body.startswith("Code for Boss: ")
    code = mailed_code(api, boss.email)
    assert api.post("/auth/2fa/confirm", {"method": "email", "code": code}, token=boss.token).status == 200
