"""Tenant members made through the real paths: invited by e-mail, accepted from the mailed link."""

from __future__ import annotations

from tests.support.actors import PASSWORD, Actor, login
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.pipeline import Pipeline


def invite(api: Api, admin: Actor, email: str, role: str = "pharmacist", **extra: object) -> dict:
    reply = api.post("/invitations", {"email": email, "role": role, **extra}, token=admin.token)
    assert reply.status == 201, reply.text
    Pipeline(api.stack).run()
    return dict(reply.json)


def member(
    api: Api,
    admin: Actor,
    email: str,
    role: str = "pharmacist",
    name: str = "Pat Member",
    password: str = PASSWORD,
) -> Actor:
    """An active member of `admin`'s tenant: invited, accepted from the mailed link, logged in."""
    invite(api, admin, email, role, name=name)
    token = mailed_token(api, email)
    accepted = api.post("/invitations/accept", {"token": token, "password": password})
    assert accepted.status == 201, accepted.text
    return login(api, email, password)
