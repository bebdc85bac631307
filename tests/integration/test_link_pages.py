"""The links in system e-mail open pages whose forms complete the action (issue 8, item 2).

Each page is fetched from the mailed link, its one form read as a browser reads it and submitted
urlencoded to the form route it names.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from tests.support.actors import PASSWORD, login, super_admin, tenant_admin
from tests.support.http import Api, Reply
from tests.support.mail import last_mail_to, mailed_token
from tests.support.pages import the_form
from tests.support.people import member
from tests.support.pipeline import Pipeline

NEW = "a-brand-new-passphrase-42"


def _open(api: Api, email: str, marker: str) -> Reply:
    """GET the link of the last mail to `email` (its path and query, as the gateway routes it)."""
    token = mailed_token(api, email, marker)
    body = last_mail_to(api, email).body
    url = next(w for w in body.split() if marker + token in w)
    split = urlsplit(url)
    page = api.get(split.path, query=dict(p.split("=", 1) for p in split.query.split("&")))
    assert page.status == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    return page


def _submit(api: Api, page: Reply, **values: str) -> Reply:
    form = the_form(page.text)
    assert form.method == "post"
    assert set(values) <= set(form.inputs)
    body = urlencode({**form.hidden, **values})
    return api.call(
        "POST", form.action, raw_body=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )


def test_activation_link_page_sets_the_password_once(api: Api) -> None:
    root = super_admin(api)
    created = api.post(
        "/tenants",
        {"name": "Page Pharmacy", "admin": {"email": "ann@page.example.com", "name": "Ann"}},
        token=root.token,
    )
    assert created.status == 201, created.text
    Pipeline(api.stack).run()
    page = _open(api, "ann@page.example.com", "/activate?token=")
    assert the_form(page.text).action == "/forms/activate"

    weak = _submit(api, page, password="password1")
    assert weak.status == 422
    assert "common" in weak.text.lower()  # the policy's reason, shown on the page
    assert the_form(weak.text).hidden["token"]  # the form again, to try another password

    done = _submit(api, page, password=PASSWORD)
    assert done.status == 200, done.text
    assert "Account activated" in done.text
    assert login(api, "ann@page.example.com").tenant_id

    again = _submit(api, page, password=PASSWORD)
    assert again.status == 410
    assert "invalid, used or expired" in again.text


def test_invitation_link_page_creates_the_account(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    invited = api.post(
        "/invitations",
        {"email": "ivy@acme.example.com", "role": "pharmacist", "name": "Ivy"},
        token=boss.token,
    )
    assert invited.status == 201, invited.text
    Pipeline(api.stack).run()
    page = _open(api, "ivy@acme.example.com", "/invitations/accept?token=")
    assert the_form(page.text).action == "/forms/accept-invitation"
    done = _submit(api, page, password=PASSWORD, name="Ivy Green")
    assert done.status == 200, done.text
    ivy = login(api, "ivy@acme.example.com")
    assert ivy.tenant_id == boss.tenant_id
    assert api.get(f"/users/{ivy.user_id}", token=ivy.token).json["name"] == "Ivy Green"


def test_password_reset_link_page_changes_the_password(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    assert api.post("/auth/password/forgot", {"email": boss.email}).status == 202
    Pipeline(api.stack).run()
    page = _open(api, boss.email, "/reset-password?token=")
    assert the_form(page.text).action == "/forms/reset-password"
    done = _submit(api, page, password=NEW)
    assert done.status == 200, done.text
    assert login(api, boss.email, NEW).user_id == boss.user_id


def test_email_change_link_page_confirms_the_new_address(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    ph = member(api, boss, "ph@acme.example.com")
    changed = api.patch(f"/users/{ph.user_id}", {"email": "ph.new@acme.example.com"}, token=boss.token)
    assert changed.status == 200, changed.text
    Pipeline(api.stack).run()
    page = _open(api, "ph.new@acme.example.com", "/confirm-email?token=")
    form = the_form(page.text)
    assert (form.action, form.inputs) == ("/forms/confirm-email", [])
    assert api.get("/activate").status == 400  # opening a page changes nothing; a bare link is refused
    done = _submit(api, page)
    assert done.status == 200, done.text
    assert login(api, "ph.new@acme.example.com").user_id == ph.user_id


def test_a_page_escapes_what_it_is_given_and_leaks_no_token(api: Api) -> None:
    hostile = api.get("/activate", query={"token": '"><script>alert(1)</script>'})
    assert hostile.status == 400
    assert "<script" not in hostile.text
    token = "A" * 43
    page = api.get("/invitations/accept", query={"token": token})
    assert page.status == 200
    assert the_form(page.text).hidden == {"token": token}
    assert page.text.count(token) == 1  # only in the hidden field: no link on the page carries it
