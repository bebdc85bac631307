"""Helpers for the identity tests: more users, Twilio's HTTP API faked, codes read from outside.

Codes come only from where a person would read them: an authenticator (pyotp, from the
otpauth URI), the SMS Twilio was asked to send (`responses`), the e-mail SES recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pyotp
import responses

from keel.auth import passwords
from keel.core import clock, ids
from keel.core.principal import Principal
from keel.store import keys, table
from keel.store.change import Change
from keel.users import repo as users
from keel.users.models import User, UserStatus
from tests.support import secrets_watch
from tests.support.actors import PASSWORD, Actor, login
from tests.support.http import Api

TWILIO_SID = "AC" + "0" * 32
TWILIO_FROM = "+15005550006"


def member(api: Api, boss: Actor, email: str, role: str = "cashier", password: str = PASSWORD) -> Actor:
    """An active user of `boss`'s tenant (stand-in for create_user, which the users work adds)."""
    now = clock.iso()
    user = User(
        user_id=ids.new_id("usr"),
        tenant_id=boss.tenant_id,
        email=email,
        name=email.split("@", maxsplit=1)[0].title(),
        role=role,
        status=UserStatus.ACTIVE,
        password_hash=passwords.hash_password(password),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    change = Change(Principal.system(boss.tenant_id, "tests"))
    users.add_new_user(change.tx, user)
    change.commit()
    table.update(
        keys.tenant_pk(user.tenant_id),
        keys.user_sk(user.user_id),
        "SET password_strength = :s",
        values={":s": passwords.strength(password)},
    )
    return login(api, email, password)


def last_mail_to(api: Api, email: str) -> Any:
    for mail in reversed(api.stack.sent_mail()):
        if email in mail.destinations["ToAddresses"]:
            return mail
    raise AssertionError(f"no mail to {email}")


def mailed_code(api: Api, email: str) -> str:
    found = re.search(r"\b(\d{6})\b", last_mail_to(api, email).body)
    assert found, "mail without a code"
    secrets_watch.register(found.group(1))
    return found.group(1)


def mailed_token(api: Api, email: str) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-]+)", last_mail_to(api, email).body)
    assert found, "mail without a link"
    secrets_watch.register(found.group(1))
    return found.group(1)


def authenticator(otpauth_uri: str) -> pyotp.TOTP:
    totp = pyotp.parse_uri(otpauth_uri)
    assert isinstance(totp, pyotp.TOTP)
    return totp


def totp_now(totp: pyotp.TOTP) -> str:
    code = totp.at(clock.now())
    secrets_watch.register(code)
    return code


@dataclass
class FakeTwilio:
    sent: list[dict[str, str]] = field(default_factory=list)
    fail_with: tuple[int, int] | None = None  # (HTTP status, Twilio error code)

    def last_code(self, to: str | None = None) -> str:
        for msg in reversed(self.sent):
            if to is None or msg["To"] == to:
                code = re.search(r"\b(\d{6})\b", msg["Body"])
                assert code
                secrets_watch.register(code.group(1))
                return code.group(1)
        raise AssertionError("no SMS sent")


@contextmanager
def fake_twilio(api: Api) -> Iterator[FakeTwilio]:
    """Twilio credentials in the app secret (moto) and Twilio's REST API answered by `responses`."""
    from keel.core import aws
    from keel.core.config import settings

    api.stack.client("secretsmanager").put_secret_value(
        SecretId=settings().app_secret_arn,
        SecretString=json.dumps(
            {
                "twilio_account_sid": TWILIO_SID,
                "twilio_auth_token": "tw-secret-0123456789",
                "twilio_from_number": TWILIO_FROM,
            }
        ),
    )
    aws.reset()
    fake = FakeTwilio()

    def create(request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if fake.fail_with:
            status, code = fake.fail_with
            return status, {}, json.dumps({"code": code, "message": "refused", "status": status})
        fake.sent.append(form)
        body = {
            "sid": "SM" + "1" * 32,
            "status": "queued",
            "to": form["To"],
            "from": form["From"],
            "body": "",
        }
        return 201, {"Content-Type": "application/json"}, json.dumps(body)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        rsps.add_callback(
            responses.POST,
            f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
            callback=create,
        )
        yield fake
