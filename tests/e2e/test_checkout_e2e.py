"""Issue 13 over HTTP against the running local stack: a workshop organiser's event in Dallas, the
public availability (ETag), checkouts until sold out (the next refused), an expansion with a reason,
the audit. Stripe is a fake on a loopback port, reached by the real SDK in the function."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.client import PASSWORD, Api, Mailbox, actor_of, request, unique_email
from tests.support.checkout import STRIPE_KEY, buyer_body, event_body
from tests.support.fake_stripe import FakeStripe

pytestmark = pytest.mark.e2e


@pytest.fixture
def fake_stripe(local_stack: dict[str, Any]) -> Iterator[FakeStripe]:
    fake = FakeStripe()
    secrets = boto3.client("secretsmanager", endpoint_url=local_stack["moto_url"], region_name="us-east-1")
    arn = next(s["ARN"] for s in secrets.list_secrets()["SecretList"] if s["Name"].endswith("/app"))
    current = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    secrets.put_secret_value(
        SecretId=arn,
        SecretString=json.dumps({**current, "stripe_api_key": STRIPE_KEY, "stripe_api_base": fake.url}),
    )
    yield fake
    fake.close()


def test_event_sell_out_refuse_expand_audit(
    local_stack: dict[str, Any], http_api: Api, mailbox: Mailbox, fake_stripe: FakeStripe
) -> None:
    api = http_api
    slug = uuid.uuid4().hex[:8]
    email = unique_email("org", f"{slug}.example.com")
    created = api.post(
        "/tenants",
        {"name": f"Workshops {slug}", "kind": "workshop", "admin": {"email": email, "name": "Olu"}},
        token=str(local_stack["admin_token"]),
    )
    assert created.status == 201, str(created)
    token = mailbox.wait_for(email, "/activate?token=").link_token()
    org = actor_of(api.post("/auth/activate", {"token": token, "password": PASSWORD}), email)
    city = f"dallas-{slug}"
    assert api.post("/events", event_body(city, ga=3), token=org.token).status == 201

    inventory = f"{api.base_url}/public/{org.tenant_id}/events/{city}/inventory"
    shown = request("GET", inventory)
    assert shown.status == 200, str(shown)
    assert shown.json["tiers"]["GA"]["available"] == 3
    assert b"actual_limit" not in shown.body

    for n in range(3):
        sold = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(city, n=n))
        assert sold.status == 201, str(sold)
        assert sold.json["url"].startswith("https://checkout.stripe.com/")
    refused = api.post(f"/public/{org.tenant_id}/checkout-sessions", buyer_body(city, n=9))
    assert (refused.status, refused.code) == (409, "SAAS_061")
    assert fake_stripe.sessions[0]["metadata"]["city_id"] == city

    expanded = api.post(
        f"/events/{city}/inventory/expansions",
        {"tier": "GA", "additional_spots": 5, "reason": "Bigger room booked"},
        token=org.token,
    )
    assert expanded.status == 200, str(expanded)
    assert expanded.json["remaining"] == 5
    assert request("GET", inventory).json["tiers"]["GA"]["available"] == 5
    audit = api.get(f"/events/{city}/inventory/audit", token=org.token)
    assert audit.json["ok"] is True, str(audit)
