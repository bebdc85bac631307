"""Checkout tests: workshop organisers, Twilio faked at its HTTP boundary (`responses`, the real SDK),
the Checkout Session objects Stripe sends in its events, the release schedule. Stripe is the one
fake of the gateways (`infra/local/fake_gateways.py`, the `gateways` fixture of tests/conftest.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import responses

from infra.apps import function_module
from infra.lambda_events import LambdaContext, scheduled_event
from tests.support.actors import PASSWORD, Actor
from tests.support.http import Api
from tests.support.mail import mailed_token
from tests.support.pipeline import Pipeline
from tests.support.stack import Stack

TWILIO_SID = "AC" + "7" * 32
TWILIO_FROM = "+15005550006"
TWILIO_TOKEN = "tw-secret-0123456789"
CITY = "dallas-jan-2026"


def organiser(
    api: Api, root: Actor, name: str = "Six Figure Workshops", email: str = "org@sixfig.example.com"
) -> Actor:
    """The admin (organiser_admin) of a new workshop tenant, activated through the mailed link."""
    reply = api.post(
        "/tenants",
        {"name": name, "kind": "workshop", "admin": {"email": email, "name": "Olu"}},
        token=root.token,
    )
    assert reply.status == 201, reply.text
    Pipeline(api.stack).run()
    activated = api.post("/auth/activate", {"token": mailed_token(api, email), "password": PASSWORD})
    assert activated.status == 200, activated.text
    body = activated.json
    # staff SMS go through the notifications area: the tenant's SMS channel, Twilio faked below
    sms = api.call(
        "PUT",
        "/notifications/channels",
        json_body={
            "channel": "sms",
            "enabled": True,
            "settings": {"from_number": TWILIO_FROM},
            "credentials": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
        },
        token=body["token"],
    )
    assert sms.status == 200, sms.text
    return Actor(body["token"], body["user"]["user_id"], body["user"]["tenant_id"], email)


def event_body(city_id: str = CITY, ga: int = 10, vip: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "city_id": city_id,
        "name": "Six Figure Barber Workshop",
        "city": "Dallas",
        "date": "2026-01-25",
        "venue": "Hyatt Regency, 300 Reunion Blvd",
        "tiers": {
            "GA": {"public_limit": ga, "actual_limit": ga, "price": 100000, "member_price": 85000},
            "VIP": {"public_limit": vip, "actual_limit": vip, "price": 150000, "member_price": 130000},
        },
        "staff_phones": ["+14155550100"],
        "staff_emails": ["ops@sixfig.example.com"],
        **extra,
    }


def buyer_body(
    city_id: str = CITY, tier: str = "GA", quantity: int = 1, n: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "city_id": city_id,
        "ticket_type": tier,
        "quantity": quantity,
        "is_member": False,
        "customer": {
            "first_name": "Buyer",
            "last_name": f"No{n}",
            "email": f"buyer{n}@shop.example.com",
            "business_type": "individual",
            **extra.pop("customer", {}),
        },
        **extra,
    }


@dataclass
class FakeProviders:
    sms: list[dict[str, str]] = field(default_factory=list)
    twilio_fails: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def fake_providers(api: Api) -> Iterator[FakeProviders]:
    """Twilio keys in the app secret; its REST API answered by `responses` (loopback passes through,
    so the fake gateways answer Stripe)."""
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
                "twilio_auth_token": TWILIO_TOKEN,
                "twilio_from_number": TWILIO_FROM,
            }
        ),
    )
    aws.reset()
    fake = FakeProviders()

    def send_sms(request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if fake.twilio_fails:
            return 400, {}, json.dumps({"code": 21211, "message": "refused", "status": 400})
        with fake.lock:
            fake.sms.append(form)
        body = {
            "sid": "SM" + "2" * 32,
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
            callback=send_sms,
        )
        yield fake


def completed(session: dict[str, Any], *, paid: bool = True) -> dict[str, Any]:
    """The Checkout Session as `checkout.session.completed` carries it in data.object."""
    return {
        **session,
        "status": "complete",
        "payment_status": "paid" if paid else "unpaid",
        "payment_intent": "pi_" + session["id"][-12:],
    }


def expired(session: dict[str, Any]) -> dict[str, Any]:
    return {**session, "status": "expired", "payment_status": "unpaid", "url": None}


def run_release_schedule() -> dict[str, Any]:
    module = function_module("functions/schedules/release_holds/")
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/release-holds")
    return dict(module.lambda_handler(event, LambdaContext("release-holds", timeout_seconds=60)))


def notify(stack: Stack) -> int:
    """Relay the events, run the checkout notifier over its queue until it is empty, then the
    notifications it queued through the notifier (their SMS and e-mail); the checkout events handled.

    A new stream reader each time: a refused transaction makes moto swap the table's object, which
    leaves an older reader deaf (the local stack's relay re-reads for the same reason)."""
    pipeline = Pipeline(stack)
    pipeline.relay()
    total = 0
    while True:
        n, _ = pipeline.work("CheckoutNotifyQueue", "functions/workers/checkout_notifier/")
        if not n:
            break
        total += n
    Pipeline(stack).relay()
    while pipeline.work("NotifyQueue", "functions/workers/notifier/")[0]:
        pass
    return total
