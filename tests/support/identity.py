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

from keel.core import clock
from tests.support import secrets_watch
from tests.support.http import Api
from tests.support.mail import last_mail_to

TWILIO_SID = "AC" + "0" * 32
TWILIO_FROM = "+15005550006"


def mailed_code(api: Api, email: str) -> str:
    found = re.search(r"\b(\d{6})\b", last_mail_to(api, email).body)
    assert found, "mail without a code"
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

    secrets = api.stack.client("secretsmanager")
    current = json.loads(secrets.get_secret_value(SecretId=settings().app_secret_arn)["SecretString"])
    secrets.put_secret_value(
        SecretId=settings().app_secret_arn,
        SecretString=json.dumps(
            {
                **current,
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
