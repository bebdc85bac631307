"""The gateways' APIs: Stripe through the `stripe` library, Nomba through `requests`.

Keys come from the app secret (Secrets Manager): `stripe_api_key`, `nomba_client_id`,
`nomba_client_secret`, `nomba_account_id`; `stripe_api_base` / `nomba_api_base` point the
clients elsewhere (the local stack's fake gateway). Provider libraries are imported in the calls.
"""

from __future__ import annotations

from typing import Any

from keel.core.errors import ErrorCode, KeelError
from keel.core.secrets import app_secret

NOMBA_API = "https://api.nomba.com"
TIMEOUT_SECONDS = 10


def _gateway_error(gateway: str, exc: Exception) -> KeelError:
    return KeelError(ErrorCode.SAAS_053, f"{gateway} refused or could not be reached: {type(exc).__name__}")


def stripe_key() -> str:
    return str(app_secret().get("stripe_api_key") or "")


def stripe_client() -> Any:
    import stripe

    key = stripe_key()
    if not key:
        raise KeelError(ErrorCode.SAAS_053, "Stripe is not configured (stripe_api_key)")
    base = app_secret().get("stripe_api_base")
    http = stripe.RequestsClient(timeout=TIMEOUT_SECONDS)
    return stripe.StripeClient(
        key,
        base_addresses={"api": str(base)} if base else None,
        max_network_retries=1,
        http_client=http,
    )


def stripe_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    import stripe

    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        raise _gateway_error("Stripe", exc) from exc


def stripe_refund(payment_intent: str, amount: int, idempotency_key: str, reason: str) -> dict[str, Any]:
    client = stripe_client()
    params: dict[str, Any] = {
        "payment_intent": payment_intent,
        "amount": amount,
        "metadata": {"reason": reason},
    }
    refund = stripe_call(
        client.v1.refunds.create, params=params, options={"idempotency_key": idempotency_key}
    )
    return dict(refund.to_dict())


def stripe_subscription(gateway_id: str) -> dict[str, Any]:
    client = stripe_client()
    return dict(stripe_call(client.v1.subscriptions.retrieve, gateway_id).to_dict())


def stripe_cancel(gateway_id: str, *, at_period_end: bool, idempotency_key: str) -> dict[str, Any]:
    client = stripe_client()
    options = {"idempotency_key": idempotency_key}
    if at_period_end:
        sub = stripe_call(
            client.v1.subscriptions.update, gateway_id, params={"cancel_at_period_end": True}, options=options
        )
    else:
        sub = stripe_call(client.v1.subscriptions.cancel, gateway_id, options=options)
    return dict(sub.to_dict())


def stripe_resume(gateway_id: str, idempotency_key: str) -> dict[str, Any]:
    client = stripe_client()
    sub = stripe_call(
        client.v1.subscriptions.update,
        gateway_id,
        params={"cancel_at_period_end": False},
        options={"idempotency_key": idempotency_key},
    )
    return dict(sub.to_dict())


def stripe_change_price(
    gateway_id: str, price_id: str, *, proration_behavior: str | None, idempotency_key: str
) -> dict[str, Any]:
    """Switches a Stripe subscription's (first) item to another price (`Subscription.modify`);
    proration as Stripe's default unless `proration_behavior` says otherwise."""
    client = stripe_client()
    current = dict(stripe_call(client.v1.subscriptions.retrieve, gateway_id).to_dict())
    items = (current.get("items") or {}).get("data") or []
    if not items:
        raise KeelError(ErrorCode.SAAS_053, f"Stripe subscription {gateway_id} has no item to switch")
    params: dict[str, Any] = {"items": [{"id": items[0]["id"], "price": price_id}]}
    if proration_behavior:
        params["proration_behavior"] = proration_behavior
    sub = stripe_call(
        client.v1.subscriptions.update,
        gateway_id,
        params=params,
        options={"idempotency_key": idempotency_key},
    )
    return dict(sub.to_dict())


def stripe_reachable() -> None:
    client = stripe_client()
    stripe_call(client.v1.balance.retrieve)


# ---------------------------------------------------------------------------------------- Nomba


def nomba_configured() -> bool:
    s = app_secret()
    return bool(s.get("nomba_client_id") and s.get("nomba_client_secret") and s.get("nomba_account_id"))


def _nomba_base() -> str:
    return str(app_secret().get("nomba_api_base") or NOMBA_API).rstrip("/")


def _nomba_token() -> str:
    import requests

    s = app_secret()
    if not nomba_configured():
        raise KeelError(ErrorCode.SAAS_053, "Nomba is not configured (nomba_client_id, nomba_client_secret)")
    try:
        resp = requests.post(
            f"{_nomba_base()}/v1/auth/token/issue",
            json={
                "grant_type": "client_credentials",
                "client_id": s["nomba_client_id"],
                "client_secret": s["nomba_client_secret"],
            },
            headers={"accountId": str(s["nomba_account_id"])},
            timeout=TIMEOUT_SECONDS,
        )
        resp.raise_for_status()
        return str(resp.json()["data"]["access_token"])
    except (requests.RequestException, KeyError, ValueError) as exc:
        raise _gateway_error("Nomba", exc) from exc


def nomba_refund(transaction_id: str, amount: int, idempotency_key: str) -> dict[str, Any]:
    """A refund of a Nomba transaction; amount in kobo (Nomba takes naira with two decimals)."""
    import requests

    token = _nomba_token()
    try:
        resp = requests.post(
            f"{_nomba_base()}/v1/transactions/refund",
            json={"transactionRef": transaction_id, "amount": f"{amount // 100}.{amount % 100:02d}"},
            headers={
                "Authorization": f"Bearer {token}",
                "accountId": str(app_secret()["nomba_account_id"]),
                "X-Idempotent-Key": idempotency_key,
            },
            timeout=TIMEOUT_SECONDS,
        )
        resp.raise_for_status()
        data = resp.json().get("data") or {}
        return dict(data)
    except (requests.RequestException, ValueError) as exc:
        raise _gateway_error("Nomba", exc) from exc


def nomba_reachable() -> None:
    _nomba_token()
