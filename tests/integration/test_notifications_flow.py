"""The issue's "Done when" path, in-process: configure SMS, test it, templates, a rule with SMS then
e-mail, a role change whose SMS fails (not a mobile) and whose e-mail goes out, a signed Twilio
receipt, a scheduled bulk send cancelled, a bulk send to all pharmacists reaching each inbox once."""

from __future__ import annotations

from datetime import timedelta

from keel.core import clock
from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.notify import (
    AUTH_TOKEN,
    LANDLINE,
    MOBILE,
    configure_sms,
    drain,
    fake_twilio,
    status_callback,
)
from tests.support.people import member


def _setup(api: Api):  # type: ignore[no-untyped-def]
    root = super_admin(api)
    boss = tenant_admin(api, root)
    return root, boss


def test_configure_sms_and_send_a_test_message_seeing_the_providers_answer(api: Api) -> None:
    _, boss = _setup(api)
    with fake_twilio() as twilio:
        reply = configure_sms(api, boss.token)
        assert reply.status == 200, reply.text
        assert reply.json["credentials_set"] is True
        assert AUTH_TOKEN not in reply.text
        channels = {
            c["channel"]: c for c in api.get("/notifications/channels", token=boss.token).json["items"]
        }
        assert channels["sms"]["enabled"]
        assert channels["sms"]["settings"] == {"from_number": "+15005550006"}
        assert AUTH_TOKEN not in str(api.stack.scan())  # the table only knows it is set

        ok = api.post("/notifications/channels/test", {"channel": "sms", "to": MOBILE}, token=boss.token)
        assert ok.status == 200, ok.text
        assert ok.json["ok"] is True
        assert ok.json["provider_id"].startswith("SM")
        assert twilio.sent[-1]["To"] == MOBILE
        assert twilio.sent[-1]["From"] == "+15005550006"

        landline = api.post(
            "/notifications/channels/test", {"channel": "sms", "to": LANDLINE}, token=boss.token
        )
        assert landline.json["ok"] is False
        assert landline.json["provider_code"] == "21614"
        assert "not a mobile number" in landline.json["advice"]

        twilio.answer = (401, 20003, "Authenticate")
        creds = api.post("/notifications/channels/test", {"channel": "sms", "to": MOBILE}, token=boss.token)
        assert creds.json["provider_code"] == "20003"
        assert "credentials" in creds.json["advice"]
        twilio.answer = (429, 20429, "Too Many Requests")
        busy = api.post("/notifications/channels/test", {"channel": "sms", "to": MOBILE}, token=boss.token)
        assert busy.json["provider_code"] == "20429"
        assert "retried" in busy.json["advice"]
        twilio.answer = None

        status = api.get("/notifications/channels/status", token=boss.token, query={"channel": "sms"})
        assert status.status == 200, status.text
        sms_status = status.json["items"][0]
        assert sms_status["credentials_set"]
        assert sms_status["provider_reachable"] is True
        assert sms_status["recent"] == {}
        assert sms_status["failure_rate"] is None
        every = api.get("/notifications/channels/status", token=boss.token).json["items"]
        assert [s["channel"] for s in every] == ["email", "sms", "whatsapp", "push", "in_app"]


def test_templates_preview_strict_variables_escaping_and_sms_segments(api: Api) -> None:
    _, boss = _setup(api)
    before = api.stack.scan()
    unknown = api.post(
        "/notifications/templates",
        {"name": "welcome", "channel": "sms", "body": "Hi {{ user.fistName }}"},
        token=boss.token,
    )
    assert (unknown.status, unknown.code) == (422, "API_007")
    assert unknown.json["error"]["details"][0]["field"] == "body"
    assert "user.fistName" in unknown.text
    syntax = api.post(
        "/notifications/templates",
        {"name": "welcome", "channel": "sms", "body": "Hi {{ user.firstName"},
        token=boss.token,
    )
    assert syntax.status == 422
    assert "Template error" in syntax.text
    bad_channel = api.post(
        "/notifications/templates", {"name": "welcome", "channel": "fax", "body": "x"}, token=boss.token
    )
    assert bad_channel.status == 422
    assert bad_channel.json["error"]["details"][0]["field"].endswith("channel")
    assert api.stack.scan() == before

    sms = api.post(
        "/notifications/templates",
        {
            "name": "welcome",
            "channel": "sms",
            "body": "Hi {{ user.firstName }}, welcome to {{ tenant.name }}",
        },
        token=boss.token,
    )
    assert sms.status == 201, sms.text
    preview = api.post(
        "/notifications/templates/preview", {"template_id": sms.json["template_id"]}, token=boss.token
    )
    assert preview.json["body"] == "Hi Ada, welcome to Harbour Pharmacy"
    assert preview.json["sms"] == {"length": 35, "encoding": "GSM-7", "segments": 1}
    long = api.post(
        "/notifications/templates/preview",
        {"channel": "sms", "body": "Привет {{ user.firstName }} " * 8},
        token=boss.token,
    )
    assert long.json["sms"] == {"length": 88, "encoding": "UCS-2", "segments": 2}
    html = api.post(
        "/notifications/templates/preview",
        {
            "channel": "email",
            "subject": "Hi",
            "body": "<p>{{ data.note }}</p>",
            "data": {"data": {"note": "<script>x</script>"}},
        },
        token=boss.token,
    )
    assert html.json["body"] == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    missing = api.post(
        "/notifications/templates/preview", {"channel": "sms", "body": "{{ data.code }}"}, token=boss.token
    )
    assert missing.status == 422
    assert "data.code" in missing.text

    updated = api.patch(
        f"/notifications/templates/{sms.json['template_id']}",
        {"body": "Hello {{ user.name }}"},
        token=boss.token,
    )
    assert updated.status == 200
    assert updated.json["body"] == "Hello {{ user.name }}"
    listed = api.get("/notifications/templates", token=boss.token).json["items"]
    assert [t["name"] for t in listed] == ["welcome"]
    assert api.delete(f"/notifications/templates/{sms.json['template_id']}", token=boss.token).status == 204
    assert api.get("/notifications/templates", token=boss.token).json["items"] == []


def _templates_and_rule(api: Api, token: str) -> dict:
    for channel, subject in (("sms", None), ("email", "Your role changed")):
        body = {
            "name": "role_changed",
            "channel": channel,
            "body": "Hi {{ user.firstName }}, you are now {{ event.to_role }}.",
        }
        if subject:
            body["subject"] = subject
        assert api.post("/notifications/templates", body, token=token).status == 201
    rule = api.post(
        "/notifications/rules",
        {
            "name": "Tell people their role changed",
            "trigger": "user.role_changed",
            "channels": ["sms", "email"],
            "template": "role_changed",
            "category": "transactional",
        },
        token=token,
    )
    assert rule.status == 201, rule.text
    return dict(rule.json)


def test_rule_on_role_change_falls_back_from_sms_to_email_and_receipts_apply_once(api: Api) -> None:
    _, boss = _setup(api)
    ph = member(api, boss, "ph@acme.example.com", name="Pat Member")
    with fake_twilio() as twilio:
        configure_sms(api, boss.token)
        rule = _templates_and_rule(api, boss.token)
        mails = len(api.stack.sent_mail())
        dry = api.post(
            f"/notifications/rules/{rule['rule_id']}/test",
            {"data": {"user_id": ph.user_id, "from_role": "pharmacist", "to_role": "technician"}},
            token=boss.token,
        )
        assert dry.status == 200, dry.text
        assert dry.json["matches"]
        assert dry.json["recipients"][0]["recipient"] == "ph@acme.example.com"
        assert dry.json["recipients"][0]["preview"]["body"] == "Hi Pat, you are now technician."
        assert len(api.stack.sent_mail()) == mails
        assert not twilio.sent

        assert api.patch(f"/users/{ph.user_id}", {"phone": LANDLINE}, token=boss.token).status == 200
        moved = api.post(
            f"/users/{ph.user_id}/role", {"role": "technician", "reason": "stock"}, token=boss.token
        )
        assert moved.status == 200, moved.text
        drain(api)
        drain(api)  # a redelivered event notifies nobody twice

        history = api.get("/notifications/history", token=boss.token).json["items"]
        assert len(history) == 1
        note = history[0]
        assert note["status"] == "sent"
        assert note["user_id"] == ph.user_id
        sms, email = note["hops"]
        assert (sms["channel"], sms["status"], sms["error"]) == ("sms", "failed", "21614")
        assert "not a mobile number" in sms["advice"]
        assert sms["to"].endswith("50")
        assert (email["channel"], email["status"]) == ("email", "sent")
        mail = api.stack.sent_mail()[-1]
        assert mail.destinations["ToAddresses"] == ["ph@acme.example.com"]
        assert "you are now technician" in mail.body
        assert not any(m["To"] == LANDLINE for m in twilio.sent)

        # a direct SMS to a mobile, then Twilio's signed receipts
        sent = api.post(
            "/notifications/send",
            {"phone": MOBILE, "channels": ["sms"], "body": "Your order is ready"},
            token=boss.token,
        )
        assert sent.status == 202, sent.text
        drain(api)
        sid = twilio.sent[-1]["sid"]
        assert twilio.sent[-1]["StatusCallback"].endswith(
            f"/notifications/twilio/status?tenant={boss.tenant_id}"
        )
        before = api.stack.scan()
        forged = status_callback(api, boss.tenant_id, sid, "delivered", token="not-the-token")
        assert (forged.status, forged.code) == (403, "SAAS_005")
        assert api.stack.scan() == before
        delivered = status_callback(api, boss.tenant_id, sid, "delivered")
        assert delivered.status == 200
        assert delivered.json == {"applied": True}
        assert status_callback(api, boss.tenant_id, sid, "delivered").json == {"applied": False}
        assert status_callback(api, boss.tenant_id, sid, "sent").json == {"applied": False}  # never backwards
        mine = api.get(
            "/notifications/history", token=boss.token, query={"channel": "sms", "status": "delivered"}
        )
        assert [n["notification_id"] for n in mine.json["items"]] == [sent.json["notification_id"]]
        assert mine.json["items"][0]["hops"][0]["status"] == "delivered"

        resent = api.post(f"/notifications/history/{sent.json['notification_id']}/resend", token=boss.token)
        assert resent.status == 202
        assert resent.json["notification_id"] != sent.json["notification_id"]
        drain(api)
        assert [m["Body"] for m in twilio.sent] == ["Your order is ready"] * 2  # sent, then resent


def test_scheduled_bulk_send_cancelled_sends_nothing_and_bulk_to_pharmacists_reaches_each_inbox_once(
    api: Api,
) -> None:
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, scheduled_event

    _, boss = _setup(api)
    ph1 = member(api, boss, "ph1@acme.example.com")
    ph2 = member(api, boss, "ph2@acme.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    audience = {"kind": "role", "roles": ["pharmacist"]}
    later = clock.iso(clock.now() + timedelta(hours=2))
    body = {
        "audience": audience,
        "channels": ["in_app"],
        "subject": "Stock take",
        "body": "Stock take on {{ data.day }}",
        "data": {"day": "Friday"},
    }
    scheduled = api.post("/notifications/bulk", {**body, "send_at": later}, token=boss.token)
    assert scheduled.status == 202, scheduled.text
    assert scheduled.json["status"] == "scheduled"
    listed = api.get("/notifications/scheduled", token=boss.token).json["items"]
    assert [s["send_id"] for s in listed] == [scheduled.json["send_id"]]
    cancelled = api.post(f"/notifications/scheduled/{scheduled.json['send_id']}/cancel", token=boss.token)
    assert cancelled.status == 200
    assert cancelled.json["status"] == "cancelled"
    again = api.post(f"/notifications/scheduled/{scheduled.json['send_id']}/cancel", token=boss.token)
    assert (again.status, again.code) == (409, "SAAS_011")
    assert api.get("/notifications/scheduled", token=boss.token).json["items"] == []

    second = api.post("/notifications/bulk", {**body, "send_at": later}, token=boss.token)
    due = function_module("functions/schedules/notify_due/")
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/due")
    assert due.lambda_handler(event, LambdaContext("due")) == {"started": 0}  # not yet
    clock.freeze(clock.now() + timedelta(hours=3))
    assert due.lambda_handler(event, LambdaContext("due")) == {"started": 1}  # the cancelled one stays
    clock.unfreeze()  # (the sessions would have expired)
    drain(api)
    for who in (ph1, ph2):
        inbox = api.get("/notifications/inbox", token=who.token).json
        assert [i["body"] for i in inbox["items"]] == ["Stock take on Friday"], who.email
        assert inbox["unread"] == 1
    assert api.get("/notifications/inbox", token=cashier.token).json == {
        "items": [],
        "unread": 0,
        "next_cursor": None,
    }
    history = api.get("/notifications/history", token=boss.token).json["items"]
    assert {n["user_id"] for n in history} == {ph1.user_id, ph2.user_id}
    assert all(n["status"] == "delivered" for n in history)
    assert second.json["send_id"] != scheduled.json["send_id"]

    now = api.post("/notifications/bulk", {**body, "body": "Meeting at noon"}, token=boss.token)
    assert now.status == 202
    assert now.json["status"] == "enqueued"
    drain(api)
    read = api.post("/notifications/inbox/read", {"all": True}, token=ph1.token)
    assert read.json == {"marked": 2, "unread": 0}
    page = api.get("/notifications/inbox", token=ph1.token, query={"limit": 1}).json
    assert page["items"][0]["body"] == "Meeting at noon"
    assert page["next_cursor"]
    assert page["unread"] == 0
