"""Gateway status: credentials set, test or live mode (from the key), reachable, last event
received and the recent failure rate (rejected or failed among the last 100 deliveries)."""

from __future__ import annotations

from keel.core.errors import KeelError
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.core.secrets import app_secret
from keel.payments import gateways, repo
from keel.payments.models import GatewayHealth, GatewayStatus

RECENT = 100


def _recent(gateway: str) -> tuple[str | None, int, float]:
    events, _ = repo.receipts_page(gateway, RECENT, None)
    if not events:
        return None, 0, 0.0
    bad = sum(1 for e in events if e.processing in ("rejected", "failed"))
    return events[0].received_at, len(events), round(bad / len(events), 3)


def gateway_status(principal: Principal) -> GatewayStatus:
    principal.require(Permission.GATEWAY_MANAGE)
    secret = app_secret()
    out = []
    key = gateways.stripe_key()
    stripe_set = bool(key and secret.get("stripe_webhook_secret"))
    mode = (
        "live"
        if key.startswith(("sk_live_", "rk_live_"))
        else "test"
        if key.startswith(("sk_test_", "rk_test_"))
        else "unknown"
    )
    reachable, error = _try(gateways.stripe_reachable) if key else (None, None)
    last, count, rate = _recent("stripe")
    out.append(
        GatewayHealth(
            gateway="stripe",
            credentials_set=stripe_set,
            mode=mode,
            reachable=reachable,
            reachable_error=error,
            last_event_at=last,
            recent_events=count,
            recent_failure_rate=rate,
        )
    )
    nomba_set = gateways.nomba_configured() and bool(secret.get("nomba_signing_key"))
    base = str(secret.get("nomba_api_base") or gateways.NOMBA_API)
    nomba_mode = "test" if "sandbox" in base or "127.0.0.1" in base or "localhost" in base else "live"
    reachable, error = _try(gateways.nomba_reachable) if gateways.nomba_configured() else (None, None)
    last, count, rate = _recent("nomba")
    out.append(
        GatewayHealth(
            gateway="nomba",
            credentials_set=nomba_set,
            mode=nomba_mode if nomba_set else "unknown",
            reachable=reachable,
            reachable_error=error,
            last_event_at=last,
            recent_events=count,
            recent_failure_rate=rate,
        )
    )
    return GatewayStatus(gateways=out)


def _try(check: object) -> tuple[bool, str | None]:
    try:
        check()  # type: ignore[operator]
    except KeelError as err:
        return False, err.message
    return True, None
