"""What is stored of a gateway delivery (keel/payments/redaction.py): no card or buyer personal
fields, wherever they sit; the values the worker reads held apart and put back where they were."""

from __future__ import annotations

import json

from keel.payments import redaction

MARK = "[redacted]"


def test_personal_and_card_fields_go_wherever_they_sit_and_the_rest_stays() -> None:
    event = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_1",
                "customer": "cus_1",
                "customer_email": "a@example.com",
                "customer_details": {"email": "a@example.com", "name": "Ada", "phone": "+15550001"},
                "line_items": [{"description": "GA seat", "price": {"product": {"name": "GA seat"}}}],
                "payment_method": {"card": {"last4": "4242", "exp_month": 4}, "billing_details": {"x": 1}},
                "metadata": {"tenant_id": "ten_1", "Customer-Email": "a@example.com"},
                "shipping": None,
            }
        },
    }
    body, held = redaction.stored("stripe", json.dumps(event).encode())
    obj = json.loads(body)["data"]["object"]
    assert obj["customer_email"] == obj["customer_details"] == MARK
    assert obj["payment_method"] == {"card": {"last4": "4242", "exp_month": MARK}, "billing_details": MARK}
    assert obj["metadata"] == {"tenant_id": "ten_1", "Customer-Email": MARK}
    assert obj["shipping"] is None  # nothing to hide stays null
    assert (obj["id"], obj["customer"], obj["line_items"][0]["price"]["product"]["name"]) == (
        "cs_1",
        "cus_1",
        "GA seat",
    )
    assert held == {}  # checkout's handler reads no personal value


def test_a_customer_object_loses_its_name_and_the_held_values_come_back() -> None:
    customer = {"id": "cus_1", "object": "customer", "name": "Ada", "description": "VIP", "email": "a@x.io"}
    assert redaction.redact(customer) == {**customer, "name": MARK, "description": MARK, "email": MARK}
    nomba = {
        "event_type": "payment_success",
        "data": {"customer": {"email": "b@x.io", "name": "Bola"}, "order": {"customerEmail": "b@x.io"}},
    }
    body, held = redaction.stored("nomba", json.dumps(nomba).encode())
    assert "b@x.io" not in body
    assert "Bola" not in body
    assert held == {"data.customer.email": "b@x.io", "data.order.customerEmail": "b@x.io"}
    back = redaction.restored(json.loads(body), held)
    assert back["data"]["customer"] == {"email": "b@x.io", "name": MARK}
    assert back["data"]["order"] == {"customerEmail": "b@x.io"}
    assert redaction.stored("nomba", b"not json") == ("not json", {})
