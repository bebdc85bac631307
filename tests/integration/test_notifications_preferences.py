"""Preferences decide delivery: a channel or a category switched off is skipped (the next channel
goes), security and transactional messages cannot be switched off (422 naming the field, nothing
written), quiet hours hold non-urgent messages until they end (then the due schedule sends them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keel.core import clock
from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api, Reply
from tests.support.notify import drain
from tests.support.people import member


def _send(api: Api, token: str, user_id: str, **body: Any) -> str:
    sent = api.post("/notifications/send", {"user_id": user_id, **body}, token=token)
    assert sent.status == 202, sent.text
    return str(sent.json["notification_id"])


def _note(api: Api, token: str, notification_id: str) -> dict[str, Any]:
    history = api.get("/notifications/history", token=token).json["items"]
    return next(n for n in history if n["notification_id"] == notification_id)


def _inbox(api: Api, token: str) -> list[str]:
    return [i["body"] for i in api.get("/notifications/inbox", token=token).json["items"]]


def _prefs(api: Api, token: str, body: dict[str, Any]) -> Reply:
    return api.call("PUT", "/notifications/preferences", json_body=body, token=token)


def _setup(api: Api):  # type: ignore[no-untyped-def]
    boss = tenant_admin(api, super_admin(api))
    return boss, member(api, boss, "pat@acme.example.com")


def test_a_channel_or_category_opted_out_is_skipped_and_the_next_channel_goes(api: Api) -> None:
    boss, pat = _setup(api)
    prefs = _prefs(
        api, pat.token, {"channels": {"email": False}, "categories": {"marketing": {"in_app": False}}}
    )
    assert prefs.status == 200, prefs.text
    assert prefs.json["channels"] == {"email": False}
    mails = len(api.stack.sent_mail())

    alert = _send(
        api, boss.token, pat.user_id, channels=["email", "in_app"], body="Shelf 3", category="alerts"
    )
    promo = _send(api, boss.token, pat.user_id, channels=["in_app"], body="20% off", category="marketing")
    news = _send(
        api, boss.token, pat.user_id, channels=["in_app"], body="New hours", category="announcements"
    )
    drain(api)

    email, in_app = _note(api, boss.token, alert)["hops"]
    assert (email["channel"], email["status"], email["error"]) == ("email", "skipped", "opted_out")
    assert (in_app["channel"], in_app["status"]) == ("in_app", "delivered")
    skipped = _note(api, boss.token, promo)
    assert skipped["status"] == "failed"
    assert [(h["status"], h["error"]) for h in skipped["hops"]] == [("skipped", "opted_out")]
    assert _note(api, boss.token, news)["status"] == "delivered"
    assert sorted(_inbox(api, pat.token)) == ["New hours", "Shelf 3"]
    assert len(api.stack.sent_mail()) == mails  # e-mail is off for pat

    # a transactional message ignores the opt-out: it is mailed
    receipt = _send(
        api, boss.token, pat.user_id, channels=["email"], body="Your receipt", category="transactional"
    )
    drain(api)
    assert _note(api, boss.token, receipt)["status"] == "sent"
    assert api.stack.sent_mail()[-1].destinations["ToAddresses"] == ["pat@acme.example.com"]


def test_security_and_transactional_cannot_be_switched_off(api: Api) -> None:
    _, pat = _setup(api)
    before = api.get("/notifications/preferences", token=pat.token).json
    assert set(before["mandatory"]) == {"security", "transactional"}
    snapshot = api.stack.scan()
    for category in ("security", "transactional"):
        refused = _prefs(
            api, pat.token, {"channels": {"sms": False}, "categories": {category: {"email": False}}}
        )
        assert (refused.status, refused.code) == (422, "API_007"), refused.text
        assert refused.json["error"]["details"][0]["field"] == f"categories.{category}"
    assert api.stack.scan() == snapshot  # nothing written, not even the valid part
    assert api.get("/notifications/preferences", token=pat.token).json == before
    # switching one on is fine
    on = _prefs(api, pat.token, {"categories": {"security": {"email": True}}})
    assert on.status == 200, on.text
    unknown = _prefs(api, pat.token, {"categories": {"gossip": {"email": False}}})
    assert unknown.status == 422
    assert "categories" in unknown.text


def test_quiet_hours_defer_non_urgent_messages_until_they_end(api: Api) -> None:
    from infra.apps import function_module
    from infra.lambda_events import LambdaContext, scheduled_event

    boss, pat = _setup(api)
    now = clock.now()
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    quiet = _prefs(api, pat.token, {"quiet_hours": {"start": start, "end": end, "timezone": "UTC"}})
    assert quiet.status == 200, quiet.text
    bad_zone = _prefs(
        api, pat.token, {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}}
    )
    assert bad_zone.status == 422
    assert "timezone" in bad_zone.text

    held = _send(api, boss.token, pat.user_id, channels=["in_app"], body="Stock arrived", category="alerts")
    urgent = _send(
        api, boss.token, pat.user_id, channels=["in_app"], body="Fridge alarm", category="alerts", urgent=True
    )
    code = _send(api, boss.token, pat.user_id, channels=["in_app"], body="Code 123", category="security")
    drain(api)
    assert _note(api, boss.token, held)["status"] == "deferred"
    assert _note(api, boss.token, urgent)["status"] == "delivered"
    assert _note(api, boss.token, code)["status"] == "delivered"
    assert sorted(_inbox(api, pat.token)) == ["Code 123", "Fridge alarm"]

    due = function_module("functions/schedules/notify_due/")
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/due")
    due.lambda_handler(event, LambdaContext("due"))
    drain(api)
    assert _note(api, boss.token, held)["status"] == "deferred"  # still quiet
    clock.freeze(now + timedelta(hours=1, minutes=2))
    try:
        assert due.lambda_handler(event, LambdaContext("due"))["started"] >= 1
        drain(api)
    finally:
        clock.unfreeze()
    assert _note(api, boss.token, held)["status"] == "delivered"
    assert sorted(_inbox(api, pat.token)) == ["Code 123", "Fridge alarm", "Stock arrived"]
