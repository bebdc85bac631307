"""Creating a Stripe Checkout Session for a hold (the `stripe` SDK, imported only here).

The key is `stripe_api_key` in the app secret (Secrets Manager); `stripe_api_base` there points the
SDK elsewhere (the local stack's fake Stripe). The idempotency key is derived from the hold id, so
a retried request never opens a second session for the same seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.core.observability import logger
from keel.core.secrets import app_secret


@dataclass(frozen=True)
class Session:
    id: str
    url: str
    amount_total: int


def idempotency_key(hold_id: str) -> str:
    return f"keel-checkout-{hold_id}"


def create_session(
    *,
    hold_id: str,
    metadata: dict[str, str],
    product: str,
    unit_amount: int,
    quantity: int,
    currency: str,
    customer_email: str,
    expires_at: int,
) -> Session:
    secret = app_secret()
    api_key = secret.get("stripe_api_key")
    if not api_key:
        raise KeelError(ErrorCode.SAAS_062, "Payments are not configured")
    import stripe  # heavy: loaded by the call that needs it

    options: dict[str, Any] = {}
    if secret.get("stripe_api_base"):
        options["base_addresses"] = {"api": secret["stripe_api_base"]}
    client = stripe.StripeClient(api_key, max_network_retries=1, **options)
    base = settings().public_base_url
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": quantity,
                "price_data": {
                    "currency": currency,
                    "unit_amount": unit_amount,
                    "product_data": {"name": product},
                },
            }
        ],
        "customer_email": customer_email,
        "client_reference_id": hold_id,
        "expires_at": expires_at,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": f"{base}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/checkout/cancelled?hold_id={hold_id}",
    }
    try:
        session = client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key(hold_id)},
        )
    except stripe.StripeError as exc:
        logger.warning(
            "stripe refused the checkout session",
            extra={"hold_id": hold_id, "error_type": type(exc).__name__, "http_status": exc.http_status},
        )
        raise KeelError(ErrorCode.SAAS_062, "The payment provider did not open a checkout") from exc
    return Session(id=str(session.id), url=str(session.url), amount_total=int(session.amount_total or 0))
