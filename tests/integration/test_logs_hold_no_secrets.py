"""The log check itself: it sees the logs, and it catches a leak (every test runs it on teardown)."""

from __future__ import annotations

from typing import Any

from keel.core.observability import logger
from tests.support.actors import PASSWORD, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.identity import fake_twilio


def test_representative_flows_log_without_secrets(api: Api, no_secrets_in_logs: Any) -> None:
    root = super_admin(api)
    boss = tenant_admin(api, root)
    api.post("/auth/login", {"email": boss.email, "password": "wrong-password-1"})
    with fake_twilio(api) as twilio:
        api.post("/auth/2fa/enroll", {"method": "sms", "phone": "+14155552671"}, token=boss.token)
        api.post("/auth/2fa/confirm", {"method": "sms", "code": twilio.last_code()}, token=boss.token)
        ch = api.post("/auth/login", {"email": boss.email, "password": PASSWORD}).json["challenge_token"]
        api.post("/auth/2fa/verify", {"challenge_token": ch, "code": twilio.last_code()})
    assert any("sms sent" in line for line in no_secrets_in_logs.lines)
    assert PASSWORD in no_secrets_in_logs.registered
    assert no_secrets_in_logs.leaks() == []


def test_the_check_catches_a_leak(no_secrets_in_logs: Any) -> None:
    no_secrets_in_logs.register("kls_pretend-token-123")
    logger.info("oops", extra={"token": "kls_pretend-token-123", "phone": "+14155552671"})
    assert len(no_secrets_in_logs.leaks()) == 2
    no_secrets_in_logs.reset()  # so this test's own teardown check passes
