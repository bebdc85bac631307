"""Talking to the running local stack as a client would: HTTP to the API, mail read from moto over HTTP.

Nothing here imports the application: every value a test uses comes from an HTTP response, an
e-mail SES recorded (`GET <api_url>/_local/mail`) or an authenticator app (pyotp).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

PASSWORD = "correct-horse-battery-staple"
MAIL_WAIT_SECONDS = 15.0
HTTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        """The error code of an error reply (`{"error": {"code": ...}}`), else None."""
        try:
            data = self.json
        except ValueError:
            return None
        return data.get("error", {}).get("code") if isinstance(data, dict) else None

    def __str__(self) -> str:
        return f"{self.status} {self.body.decode(errors='replace')[:500]}"


def request(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_SECONDS) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def submit_form(page_url: str, page: Reply, **values: str) -> Reply:
    """Submits the page's one form as a browser does: urlencoded, to its action on the same host."""
    from tests.support.pages import the_form

    form = the_form(page.body.decode())
    assert form.method == "post", form
    assert set(values) <= set(form.inputs), (values, form.inputs)
    split = urlsplit(page_url)
    req = urllib.request.Request(
        f"{split.scheme}://{split.netloc}{form.action}",
        data=urlencode({**form.hidden, **values}).encode(),
        method="POST",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_SECONDS) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


class Api:
    """The HTTP API at `base_url` (the gateway `make dev` starts)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> Reply:
        qs = urlencode({k: v for k, v in (query or {}).items() if v is not None})
        return request(method, f"{self.base_url}{path}{'?' + qs if qs else ''}", body, token=token)

    def get(self, path: str, *, token: str | None = None, query: dict[str, Any] | None = None) -> Reply:
        return self.call("GET", path, token=token, query=query)

    def post(self, path: str, body: Any = None, *, token: str | None = None) -> Reply:
        return self.call("POST", path, body, token=token)


@dataclass(frozen=True)
class Mail:
    id: str
    to: list[str]
    subject: str
    body: str

    def link(self, marker: str) -> str:
        """The whole URL of the first link holding `marker`, as a reader would click it."""
        found = re.search(r"https?://\S*" + re.escape(marker) + r"[A-Za-z0-9_\-]+", self.body)
        assert found, f"no {marker!r} link in the mail {self.subject!r}"
        return found.group(0)

    def link_token(self, marker: str = "token=") -> str:
        found = re.search(re.escape(marker) + r"([A-Za-z0-9_\-]+)", self.body)
        assert found, f"no {marker!r} link in the mail {self.subject!r}"
        return found.group(1)


class Mailbox:
    """The e-mail SES sent, as the local stack serves it (`GET <api_url>/_local/mail`)."""

    def __init__(self, api_url: str) -> None:
        self.url = api_url.rstrip("/") + "/_local/mail"

    def sent(self) -> list[Mail]:
        reply = request("GET", self.url)
        assert reply.status == 200, str(reply)
        return [Mail("", m["to"], m["subject"], m["body"]) for m in reply.json]

    def wait_for(self, to: str, contains: str, timeout: float = MAIL_WAIT_SECONDS) -> Mail:
        """The newest mail to `to` whose body holds `contains`; the pipeline delivers it in the background."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.sent() if to in m.to and contains in m.body]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no mail to {to} with {contains!r} after {timeout:.0f} s")
            time.sleep(0.25)


@dataclass(frozen=True)
class Actor:
    token: str
    user_id: str
    tenant_id: str
    email: str


def unique_email(label: str, domain: str) -> str:
    """Addresses (and so accounts) of their own per test: the stack lives for the whole session."""
    return f"{label}-{uuid.uuid4().hex[:10]}@{domain}"


def actor_of(reply: Reply, email: str) -> Actor:
    assert reply.status in (200, 201), str(reply)
    body = reply.json
    assert body["token"], str(reply)
    return Actor(body["token"], body["user"]["user_id"], body["user"]["tenant_id"], email)


def login(api: Api, email: str, password: str = PASSWORD) -> Actor:
    return actor_of(api.post("/auth/login", {"email": email, "password": password}), email)


def new_tenant(api: Api, mail: Mailbox, root_token: str, name: str = "Pharmacy") -> Actor:
    """A tenant made by the super admin, its admin activated from the mailed link."""
    slug = uuid.uuid4().hex[:8]
    email = unique_email("owner", f"{slug}.example.com")
    created = api.post(
        "/tenants",
        {"name": f"{name} {slug}", "admin": {"email": email, "name": "Olive Owner"}},
        token=root_token,
    )
    assert created.status == 201, str(created)
    token = mail.wait_for(email, "/activate?token=").link_token()
    return actor_of(api.post("/auth/activate", {"token": token, "password": PASSWORD}), email)


def invite_member(api: Api, mail: Mailbox, admin: Actor, role: str, name: str) -> Actor:
    """Invited by `admin`, accepted from the mailed link, then logged in."""
    email = unique_email(role, admin.email.split("@", 1)[1])
    invited = api.post("/invitations", {"email": email, "role": role, "name": name}, token=admin.token)
    assert invited.status == 201, str(invited)
    token = mail.wait_for(email, "/invitations/accept?token=").link_token()
    accepted = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert accepted.status == 201, str(accepted)
    return login(api, email)
