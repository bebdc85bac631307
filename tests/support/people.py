"""Tenant members made through the real paths: invited by e-mail, accepted from the mailed link."""

from __future__ import annotations

import re

from tests.support.actors import PASSWORD, Actor, login
from tests.support.http import Api
from tests.support.pipeline import Pipeline


def mailed_token(api: Api, email: str, marker: str = "token=") -> str:
    for mail in reversed(api.stack.sent_mail()):
        if email in mail.destinations["ToAddresses"]:
            found = re.search(re.escape(marker) + r"([A-Za-z0-9_\-]+)", mail.body)
            assert found, "mail without a link"
            return found.group(1)
    raise AssertionError(f"no mail to {email}")


def invite(api: Api, admin: Actor, email: str, role: str = "pharmacist", **extra: object) -> dict:
    reply = api.post("/invitations", {"email": email, "role": role, **extra}, token=admin.token)
    assert reply.status == 201, reply.text
    Pipeline(api.stack).run()
    return dict(reply.json)


def member(api: Api, admin: Actor, email: str, role: str = "pharmacist", name: str = "Pat Member") -> Actor:
    invite(api, admin, email, role, name=name)
    token = mailed_token(api, email)
    accepted = api.post("/invitations/accept", {"token": token, "password": PASSWORD})
    assert accepted.status == 201, accepted.text
    return login(api, email)
