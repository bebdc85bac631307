"""Ready-made callers: the super admin, tenants with an activated admin (through the real mail)."""

from __future__ import annotations

from dataclasses import dataclass

from keel.users.bootstrap import create_super_admin
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.pipeline import Pipeline

SUPER_EMAIL = "root@example.com"
PASSWORD = "correct-horse-battery-staple"


@dataclass
class Actor:
    token: str
    user_id: str
    tenant_id: str
    email: str


def login(api: Api, email: str, password: str = PASSWORD) -> Actor:
    reply = api.post("/auth/login", {"email": email, "password": password})
    assert reply.status == 200, reply.text
    body = reply.json
    return Actor(body["token"], body["user"]["user_id"], body["user"]["tenant_id"], email)


def super_admin(api: Api) -> Actor:
    create_super_admin(SUPER_EMAIL, PASSWORD)
    return login(api, SUPER_EMAIL)


def tenant_admin(
    api: Api, root: Actor, name: str = "Acme Pharmacy", email: str = "boss@acme.example.com"
) -> Actor:
    reply = api.post("/tenants", {"name": name, "admin": {"email": email, "name": "Boss"}}, token=root.token)
    assert reply.status == 201, reply.text
    Pipeline(api.stack).run()
    token = mailed_token(api, email)
    activated = api.post("/auth/activate", {"token": token, "password": PASSWORD})
    assert activated.status == 200, activated.text
    body = activated.json
    return Actor(body["token"], body["user"]["user_id"], body["user"]["tenant_id"], email)
