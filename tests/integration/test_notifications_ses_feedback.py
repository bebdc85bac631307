"""SES bounces and complaints arrive through their own SNS topic (SES's notification JSON), reach
the SES feedback worker through its queue, mark the e-mail hop bounced, suppress the address for
the tenant (the next e-mail to it is skipped), try the next channel after a bounce, and are
applied once however often they are delivered."""

from __future__ import annotations

import json
from typing import Any

from tests.support.actors import super_admin, tenant_admin
from tests.support.http import Api
from tests.support.notify import drain
from tests.support.people import member
from tests.support.pipeline import Pipeline

WORKER = "functions/workers/ses_feedback/"


def _topic(api: Api) -> str:
    topics = api.stack.client("sns").list_topics()["Topics"]
    return next(t["TopicArn"] for t in topics if t["TopicArn"].endswith("-ses-feedback"))


def _mail(message_id: str, to: str) -> dict[str, Any]:
    return {
        "timestamp": "2026-03-02T10:00:00.000Z",
        "source": "no-reply@keel.example.com",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/keel.example.com",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [to],
        "headersTruncated": False,
        "commonHeaders": {"from": ["no-reply@keel.example.com"], "to": [to], "subject": "Hello"},
    }


def bounce(message_id: str, to: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    """SES's identity notification for a bounce (the shape SES publishes to SNS)."""
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": to,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-03-02T10:00:01.000Z",
            "feedbackId": "0100017f-bounce-feedback",
            "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
        },
        "mail": _mail(message_id, to),
    }


def complaint(message_id: str, to: str) -> dict[str, Any]:
    """A configuration set's event for a complaint (`eventType`, as its event destination sends)."""
    return {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": to}],
            "timestamp": "2026-03-02T11:00:00.000Z",
            "feedbackId": "0100017f-complaint-feedback",
            "userAgent": "Mozilla/5.0",
            "complaintFeedbackType": "abuse",
        },
        "mail": _mail(message_id, to),
    }


def _publish(api: Api, feedback: dict[str, Any], times: int = 1) -> int:
    sns = api.stack.client("sns")
    for _ in range(times):
        sns.publish(TopicArn=_topic(api), Message=json.dumps(feedback))
    p, worked = Pipeline(api.stack), 0
    while True:
        n, result = p.work("SesFeedbackQueue", WORKER)
        assert result["batchItemFailures"] == []
        worked += n
        if not n:
            return worked


def _note(api: Api, token: str, notification_id: str) -> dict[str, Any]:
    return next(
        n
        for n in api.get("/notifications/history", token=token).json["items"]
        if n["notification_id"] == notification_id
    )


def _send(api: Api, token: str, **body: Any) -> str:
    sent = api.post("/notifications/send", body, token=token)
    assert sent.status == 202, sent.text
    drain(api)
    return str(sent.json["notification_id"])


def test_a_permanent_bounce_marks_the_hop_bounced_suppresses_the_address_and_falls_back(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    pat = member(api, boss, "pat@acme.example.com")
    first = _send(
        api, boss.token, user_id=pat.user_id, channels=["email", "in_app"], body="Stock", category="alerts"
    )
    hop = _note(api, boss.token, first)["hops"][0]
    assert (hop["channel"], hop["status"]) == ("email", "sent")
    assert api.get("/notifications/inbox", token=pat.token).json["items"] == []

    soft = bounce(hop["provider_id"], "pat@acme.example.com", bounce_type="Transient")
    assert _publish(api, soft) == 1
    assert _note(api, boss.token, first)["hops"][0]["status"] == "sent"  # SES retries soft bounces

    assert _publish(api, bounce(hop["provider_id"], "pat@acme.example.com"), times=2) == 2  # a duplicate
    drain(api)
    note = _note(api, boss.token, first)
    email, in_app = note["hops"]
    assert (email["status"], email["error"]) == ("bounced", "ses bounce Permanent/General")
    assert (in_app["channel"], in_app["status"]) == ("in_app", "delivered")  # the next channel, once
    assert [i["body"] for i in api.get("/notifications/inbox", token=pat.token).json["items"]] == ["Stock"]
    suppressed = api.stack.entities("notify_suppressed")
    assert [(s["reason"], s["PK"].endswith(boss.tenant_id)) for s in suppressed] == [("bounce", True)]

    mails = len(api.stack.sent_mail())
    again = _send(api, boss.token, user_id=pat.user_id, channels=["email"], body="Again", category="alerts")
    skipped = _note(api, boss.token, again)["hops"][0]
    assert (skipped["status"], skipped["error"]) == ("skipped", "suppressed")
    assert len(api.stack.sent_mail()) == mails


def test_a_complaint_suppresses_the_address_and_unknown_feedback_changes_nothing(api: Api) -> None:
    boss = tenant_admin(api, super_admin(api))
    sent = _send(api, boss.token, email="kim@example.org", channels=["email"], body="News", category="alerts")
    hop = _note(api, boss.token, sent)["hops"][0]

    before = api.stack.scan()
    assert _publish(api, bounce("0100017f-not-ours", "someone@example.org")) == 1  # not a notification
    assert _publish(api, {"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "ok"}) == 1
    assert api.stack.scan() == before

    assert _publish(api, complaint(hop["provider_id"], "Kim@example.org")) == 1
    note = _note(api, boss.token, sent)
    assert (note["hops"][0]["status"], note["hops"][0]["error"]) == ("bounced", "ses complaint abuse")
    assert [s["reason"] for s in api.stack.entities("notify_suppressed")] == ["complaint"]
    again = _send(
        api, boss.token, email="kim@example.org", channels=["email"], body="More", category="alerts"
    )
    assert _note(api, boss.token, again)["hops"][0]["error"] == "suppressed"
