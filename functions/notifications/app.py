"""Notification routes: channels, templates, rules, sends, history, preferences, inbox, Twilio receipts."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, public, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.notifications import config, inbox, receipts, sending
from keel.notifications.models import (
    BulkSendOut,
    BulkSendRequest,
    Channel,
    ChannelOut,
    ChannelStatus,
    ChannelTest,
    ChannelUpdate,
    DryRun,
    InboxPage,
    MarkedRead,
    MarkRead,
    NotificationOut,
    Preferences,
    PreferencesUpdate,
    Preview,
    PreviewRequest,
    ProviderAnswer,
    RuleIn,
    RuleOut,
    RuleTest,
    RuleUpdate,
    SendRequest,
    Status,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)

app = create_app()
TAGS = ["notifications"]
READ, MANAGE, SEND = (
    [requires(Permission.NOTIFICATIONS_READ)],
    [requires(Permission.NOTIFICATIONS_MANAGE)],
    [requires(Permission.NOTIFICATIONS_SEND)],
)
SELF = [requires(Permission.PROFILE)]


# channels ------------------------------------------------------------------------------------


@app.get("/notifications/channels", operation_id="list_channels", middlewares=READ, tags=TAGS)
def list_channels(tenant_id: TenantParam = None) -> Page[ChannelOut]:
    return config.list_channels(principal(app), tenant_id)


@app.put("/notifications/channels", operation_id="update_channel", middlewares=MANAGE, tags=TAGS)
def update_channel(body: ChannelUpdate, tenant_id: TenantParam = None) -> ChannelOut:
    return config.update_channel(principal(app), tenant_id, body)


@app.post("/notifications/channels/test", operation_id="test_channel", middlewares=MANAGE, tags=TAGS)
def send_test_message(body: ChannelTest, tenant_id: TenantParam = None) -> ProviderAnswer:
    return config.test_channel(principal(app), tenant_id, body)


@app.get("/notifications/channels/status", operation_id="get_channel_status", middlewares=READ, tags=TAGS)
def get_channel_status(
    channel: Annotated[Channel | None, Query(description="One channel; absent: every channel")] = None,
    tenant_id: TenantParam = None,
) -> Page[ChannelStatus]:
    return config.channel_statuses(principal(app), tenant_id, channel)


# templates -----------------------------------------------------------------------------------


@app.get("/notifications/templates", operation_id="list_templates", middlewares=READ, tags=TAGS)
def list_templates(
    tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[TemplateOut]:
    return config.list_templates(principal(app), tenant_id, limit, cursor)


@app.post("/notifications/templates", operation_id="create_template", middlewares=MANAGE, tags=TAGS)
def create_template(body: TemplateIn, tenant_id: TenantParam = None) -> Response[TemplateOut]:
    return Response(
        status_code=201,
        body=config.create_template(principal(app), tenant_id, body),
        content_type="application/json",
    )


@app.post("/notifications/templates/preview", operation_id="preview_template", middlewares=READ, tags=TAGS)
def preview_template(body: PreviewRequest, tenant_id: TenantParam = None) -> Preview:
    return config.preview_template(principal(app), tenant_id, body)


@app.patch(
    "/notifications/templates/<template_id>", operation_id="update_template", middlewares=MANAGE, tags=TAGS
)
def update_template(template_id: str, body: TemplateUpdate, tenant_id: TenantParam = None) -> TemplateOut:
    return config.update_template(principal(app), tenant_id, template_id, body)


@app.delete(
    "/notifications/templates/<template_id>", operation_id="delete_template", middlewares=MANAGE, tags=TAGS
)
def delete_template(template_id: str, tenant_id: TenantParam = None) -> Response[None]:
    config.delete_template(principal(app), tenant_id, template_id)
    return Response(status_code=204)


# rules ---------------------------------------------------------------------------------------


@app.get("/notifications/rules", operation_id="list_notification_rules", middlewares=READ, tags=TAGS)
def list_notification_rules(tenant_id: TenantParam = None) -> Page[RuleOut]:
    return config.list_rules(principal(app), tenant_id)


@app.post("/notifications/rules", operation_id="create_notification_rule", middlewares=MANAGE, tags=TAGS)
def create_notification_rule(body: RuleIn, tenant_id: TenantParam = None) -> Response[RuleOut]:
    return Response(
        status_code=201,
        body=config.create_rule(principal(app), tenant_id, body),
        content_type="application/json",
    )


@app.patch(
    "/notifications/rules/<rule_id>", operation_id="update_notification_rule", middlewares=MANAGE, tags=TAGS
)
def update_notification_rule(rule_id: str, body: RuleUpdate, tenant_id: TenantParam = None) -> RuleOut:
    return config.update_rule(principal(app), tenant_id, rule_id, body)


@app.delete(
    "/notifications/rules/<rule_id>", operation_id="delete_notification_rule", middlewares=MANAGE, tags=TAGS
)
def delete_notification_rule(rule_id: str, tenant_id: TenantParam = None) -> Response[None]:
    config.delete_rule(principal(app), tenant_id, rule_id)
    return Response(status_code=204)


@app.post(
    "/notifications/rules/<rule_id>/test", operation_id="test_notification_rule", middlewares=READ, tags=TAGS
)
def dry_run_notification_rule(rule_id: str, body: RuleTest, tenant_id: TenantParam = None) -> DryRun:
    return config.test_rule(principal(app), tenant_id, rule_id, body)


# sending -------------------------------------------------------------------------------------


@app.post("/notifications/send", operation_id="send_notification", middlewares=SEND, tags=TAGS)
def send_notification(body: SendRequest, tenant_id: TenantParam = None) -> Response[NotificationOut]:
    return Response(
        status_code=202, body=sending.send(principal(app), tenant_id, body), content_type="application/json"
    )


@app.post("/notifications/bulk", operation_id="send_bulk_notification", middlewares=SEND, tags=TAGS)
def send_bulk_notification(body: BulkSendRequest, tenant_id: TenantParam = None) -> Response[BulkSendOut]:
    return Response(
        status_code=202,
        body=sending.send_bulk(principal(app), tenant_id, body),
        content_type="application/json",
    )


@app.get("/notifications/scheduled", operation_id="list_scheduled_notifications", middlewares=READ, tags=TAGS)
def list_scheduled_notifications(
    tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[BulkSendOut]:
    return sending.list_scheduled(principal(app), tenant_id, limit, cursor)


@app.post(
    "/notifications/scheduled/<send_id>/cancel",
    operation_id="cancel_scheduled_notification",
    middlewares=SEND,
    tags=TAGS,
)
def cancel_scheduled_notification(send_id: str, tenant_id: TenantParam = None) -> BulkSendOut:
    return sending.cancel_scheduled(principal(app), tenant_id, send_id)


@app.get("/notifications/history", operation_id="list_notification_history", middlewares=READ, tags=TAGS)
def list_notification_history(
    tenant_id: TenantParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Annotated[Status | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[NotificationOut]:
    return sending.history(
        principal(app), tenant_id, limit=limit, cursor=cursor, status=status, channel=channel, user_id=user_id
    )


@app.post(
    "/notifications/history/<notification_id>/resend",
    operation_id="resend_notification",
    middlewares=SEND,
    tags=TAGS,
)
def resend_notification(notification_id: str, tenant_id: TenantParam = None) -> Response[NotificationOut]:
    return Response(
        status_code=202,
        body=sending.resend(principal(app), tenant_id, notification_id),
        content_type="application/json",
    )


# one's own preferences and inbox -------------------------------------------------------------


@app.get(
    "/notifications/preferences", operation_id="get_notification_preferences", middlewares=SELF, tags=TAGS
)
def get_notification_preferences() -> Preferences:
    return inbox.preferences(principal(app))


@app.put(
    "/notifications/preferences", operation_id="update_notification_preferences", middlewares=SELF, tags=TAGS
)
def update_notification_preferences(body: PreferencesUpdate) -> Preferences:
    return inbox.update_preferences(principal(app), body)


@app.get("/notifications/inbox", operation_id="list_inbox", middlewares=SELF, tags=TAGS)
def list_inbox(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None, unread_only: bool = False) -> InboxPage:
    return inbox.list_inbox(principal(app), limit, cursor, unread_only)


@app.post("/notifications/inbox/read", operation_id="mark_inbox_read", middlewares=SELF, tags=TAGS)
def mark_inbox_read(body: MarkRead) -> MarkedRead:
    return inbox.mark_read(principal(app), body)


# Twilio's delivery receipts --------------------------------------------------------------------


@app.post(
    "/notifications/twilio/status",
    operation_id="twilio_status_callback",
    middlewares=[public()],
    tags=TAGS,
    description="Twilio's status callback (form-encoded, `?tenant=`); `X-Twilio-Signature` is checked on "
    "the exact URL and parameters before anything else (403 SAAS_005 otherwise).",
)
def twilio_status_callback() -> dict[str, bool]:
    event = app.current_event
    body = event.decoded_body or ""
    return receipts.twilio_status(
        event.raw_path, event.raw_query_string, body, (event.headers or {}).get("x-twilio-signature")
    )


lambda_handler = entrypoint(app)
