"""What is kept of a gateway delivery's body: no card details, no buyer's personal data.

Every delivery is stored (`GatewayEvent.body`, valid or not) for support and reprocessing. A
buyer's contact data belongs where it can be found by e-mail and erased (checkout's holds and
registrations, payments' `customer_email`), never in these raw copies. So, anywhere in the JSON
body, a field whose key (case, `_` and `-` ignored) is listed here is replaced by `[redacted]`:

- `CARD_FIELDS`: card details a gateway could echo (Stripe sends none of the number or CVC).
- `PERSONAL_FIELDS`: a buyer's e-mail, name, phone and address. Stripe: `customer_email`,
  `customer_details` (Checkout Sessions), `billing_details` (charges, payment methods),
  `receipt_email`, `shipping` / `shipping_details`, `customer_name` / `_phone` / `_address` /
  `_shipping` / `_tax_ids` (invoices), `email` / `phone` / `address` anywhere; Nomba: the same
  keys in camel case (`customerEmail`, `customerName`, `customerPhone`, `firstName`...).
- In a customer object (Stripe's `"object": "customer"` or an expanded `customer`, Nomba's
  `data.customer`) its `name` and `description` too; elsewhere `name` is a product's or a plan's.

The worker applies an event from this stored copy, and one value it reads is personal: the e-mail
a payment records as its `customer_email` (`APPLY_FIELDS`, the paths `keel/payments/handlers.py`
reads). That value of a verified delivery is held beside the body (`held`, never returned by the
API), put back into the event at apply time and removed once the delivery is processed (applied,
duplicate or ignored; a failed one keeps it for its retry). Checkout reads no personal data from
the event: a registration takes the buyer's contact data from its hold.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "[redacted]"
MAX_STORED_BODY = 100_000


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


_CARD = ("number", "cvc", "cvv", "cvv2", "exp_month", "exp_year", "pan", "card_number", "pin", "fingerprint")
CARD_FIELDS = frozenset(_norm(k) for k in _CARD)
PERSONAL_FIELDS = frozenset(
    _norm(k)
    for k in (
        "email",
        "receipt_email",
        "customer_email",
        "customer_details",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "customer_tax_ids",
        "billing_details",
        "shipping",
        "shipping_details",
        "shipping_address",
        "billing_address",
        "phone",
        "phone_number",
        "mobile",
        "address",
        "first_name",
        "last_name",
        "full_name",
        "customer_full_name",
    )
)
CUSTOMER_FIELDS = frozenset({"name", "description"})  # personal inside a customer object only
# the personal values the worker reads when it applies an event, by gateway (paths in the body)
APPLY_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "stripe": (("data", "object", "receipt_email"), ("data", "object", "metadata", "customer_email")),
    "nomba": (("data", "customer", "email"), ("data", "order", "customerEmail")),
}


def redact(value: Any, *, customer: bool = False) -> Any:
    if isinstance(value, list):
        return [redact(v) for v in value]
    if not isinstance(value, dict):
        return value
    customer = customer or value.get("object") == "customer"
    out: dict[str, Any] = {}
    for key, v in value.items():
        k = _norm(str(key))
        if k in CARD_FIELDS or k in PERSONAL_FIELDS or (customer and k in CUSTOMER_FIELDS):
            out[key] = MARKER if v is not None else None
        else:
            out[key] = redact(v, customer=k == "customer")
    return out


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def stored(gateway: str, raw: bytes) -> tuple[str, dict[str, str]]:
    """The body as stored (redacted, at most `MAX_STORED_BODY` characters) and the personal values
    the worker will need to apply it (`{"data.object.receipt_email": "..."}`)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text[:MAX_STORED_BODY], {}
    held = {}
    for path in APPLY_FIELDS.get(gateway, ()):
        found = _at(body, path)
        if isinstance(found, str) and found:
            held[".".join(path)] = found[:320]
    return json.dumps(redact(body), separators=(",", ":"))[:MAX_STORED_BODY], held


def restored(body: dict[str, Any], held: dict[str, str]) -> dict[str, Any]:
    """The stored body with the held values back where the delivery had them (for the handlers)."""
    for dotted, value in held.items():
        *parents, leaf = dotted.split(".")
        node: Any = body
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[leaf] = value
    return body
