"""Local gateways for `make dev`: the fake Stripe/Nomba APIs and the secrets to sign events with.

As `stripe listen` prints its signing secret, the local stack writes a Stripe webhook secret and
a Nomba signing key into the app secret (and `.keel/dev.json`), with the fake APIs' address.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from infra.local.fake_gateways import FakeGateways


def configure(secret_arn: str) -> tuple[FakeGateways, dict[str, str]]:
    import boto3

    fake = FakeGateways().start()
    values = {
        "stripe_api_key": "sk_test_local",
        "stripe_webhook_secret": "whsec_" + secrets.token_hex(24),
        "stripe_api_base": fake.url,
        "nomba_signing_key": secrets.token_urlsafe(32),
        "nomba_client_id": "local",
        "nomba_client_secret": secrets.token_urlsafe(16),
        "nomba_account_id": "local-account",
        "nomba_api_base": fake.url,
    }
    sm = boto3.client("secretsmanager")
    current: dict[str, Any] = json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])
    sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({**current, **values}))
    return fake, {
        "stripe_webhook_secret": values["stripe_webhook_secret"],
        "nomba_signing_key": values["nomba_signing_key"],
        "fake_gateway_url": fake.url,
    }
