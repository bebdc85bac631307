"""The notifications area's domain API for contacts who are not users (checkout's staff and
customers): ordered channels with fallback, exactly once per idempotency key, in the history."""

from __future__ import annotations

from keel.notifications.contacts import Contact, notify_contact
from keel.notifications.models import Category, Channel
from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.notify import LANDLINE, MOBILE, configure_sms, drain, fake_twilio


def test_a_contact_is_notified_once_per_key_with_sms_then_email_fallback(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    with fake_twilio() as twilio:
        assert configure_sms(api, boss.token).status == 200
        ids = {
            notify_contact(
                boss.tenant_id,
                Contact(email="ops@acme.example.com", phone=LANDLINE),
                channels=[Channel.SMS, Channel.EMAIL],
                text="Sale: 1 GA {{ not.a.template }}",
                subject="SMS Fallback Alert: Sale",
                category=Category.ALERTS,
                key="evt_1:staff:0",
                source="checkout-notifier",
            )
            for _ in range(3)  # a redelivered event: the same key
        }
        assert len(ids) == 1
        sms_only = notify_contact(
            boss.tenant_id,
            Contact(phone=MOBILE),
            channels=[Channel.SMS],
            text="Ready",
            key="evt_1:sms",
            source="t",
        )
        drain(api)
        drain(api)
    history = {
        n["notification_id"]: n for n in api.get("/notifications/history", token=boss.token).json["items"]
    }
    assert set(history) == {*ids, sms_only}
    (note,) = (history[i] for i in ids)
    sms, email = note["hops"]
    assert (sms["status"], sms["error"]) == ("failed", "21614")
    assert (email["channel"], email["status"]) == ("email", "sent")
    assert (note["user_id"], note["source"], note["category"]) == (None, "checkout-notifier", "alerts")
    mail = api.stack.sent_mail()[-1]
    assert mail.destinations["ToAddresses"] == ["ops@acme.example.com"]
    assert mail.subject == "SMS Fallback Alert: Sale"
    assert "Sale: 1 GA {{ not.a.template }}" in mail.body  # the text is data, never rendered
    assert [m["Body"] for m in twilio.sent] == ["Ready"]
    assert history[sms_only]["status"] == "sent"
