"""Shared fixtures: moto-backed AWS with the template's resources, the clock, API callers."""

from __future__ import annotations

import os

# Settings read at first use: set the test environment before anything imports keel.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "KeelTests",
        "POWERTOOLS_SERVICE_NAME": "keel-tests",
        "POWERTOOLS_DEV": "false",
        # cheaper Argon2id in tests (the benchmark measures the production cost)
        "ARGON2_MEMORY_KIB": "1024",
        "ARGON2_TIME_COST": "1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest

from tests.support.stack import Stack, moto_stack


@pytest.fixture
def stack():  # type: ignore[no-untyped-def]
    with moto_stack() as s:
        yield s


@pytest.fixture
def api(stack: Stack):  # type: ignore[no-untyped-def]
    from tests.support.http import Api

    return Api(stack)


@pytest.fixture(autouse=True)
def no_outside_network():  # type: ignore[no-untyped-def]
    """Every test: no connection leaves this machine (boto3, urllib3, SDKs and sockets alike)."""
    from tests.support.network import no_network

    with no_network() as attempts:
        yield attempts
    assert not attempts, f"connections attempted outside this machine: {attempts}"


@pytest.fixture(autouse=True)
def no_secrets_in_logs():  # type: ignore[no-untyped-def]
    """Every test: no password, token, code, secret or full phone number in the logs it caused."""
    from keel.core.observability import logger
    from tests.support import secrets_watch

    secrets_watch.reset()
    handler = secrets_watch.Capture()
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    try:
        yield secrets_watch
    finally:
        logger._logger.removeHandler(handler)
    leaks = secrets_watch.leaks()
    assert not leaks, "secrets in logs:\n" + "\n".join(leaks)


# payments: the one fake of the gateways (Stripe, Nomba) on loopback, the app secret pointing at it
@pytest.fixture
def gateways(stack: Stack):  # type: ignore[no-untyped-def]
    from infra.local.fake_gateways import FakeGateways
    from tests.support.gateways import configure

    fake = FakeGateways().start()
    configure(stack, fake)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake(gateways):  # type: ignore[no-untyped-def]
    """The payments tests' name for the configured fake gateways."""
    return gateways


@pytest.fixture
def world(api, fake):  # type: ignore[no-untyped-def]
    """The super admin, a pharmacy's admin and another tenant's admin, the gateways faked."""
    from tests.support.actors import super_admin, tenant_admin

    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    return root, boss, other
