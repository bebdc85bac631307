"""Notifications as shown, and the requests of the notification routes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from keel.core.model import Model


class Channel(StrEnum):
    EMAIL = "email"  # SES
    SMS = "sms"  # Twilio
    WHATSAPP = "whatsapp"  # Twilio
    PUSH = "push"  # SNS mobile push
    IN_APP = "in_app"  # the inbox (the table)


class Category(StrEnum):
    SECURITY = "security"  # password reset, 2FA codes, lockout: cannot be switched off
    TRANSACTIONAL = "transactional"  # account and order messages: cannot be switched off
    ALERTS = "alerts"
    ANNOUNCEMENTS = "announcements"
    MARKETING = "marketing"


MANDATORY = frozenset({Category.SECURITY, Category.TRANSACTIONAL})


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DEFERRED = "deferred"  # waiting for the end of the recipient's quiet hours
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    UNDELIVERED = "undelivered"
    SKIPPED = "skipped"  # opted out, channel off, limit reached, no address: the next channel is tried


# A hop's status only moves forward (a late `sent` callback never undoes `delivered`).
RANK = {
    Status.QUEUED: 0,
    Status.DEFERRED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.FAILED: 3,
    Status.BOUNCED: 4,  # a bounce or complaint can follow a delivery
    Status.UNDELIVERED: 3,
    Status.SKIPPED: 3,
}

STRICT = ConfigDict(extra="forbid")
Name = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$", description="Lower-case key, e.g. `role_changed`")
Locale = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


# channels ------------------------------------------------------------------------------------


class ChannelOut(Model):
    channel: Channel
    enabled: bool = False
    settings: dict[str, Any] = {}
    daily_limit: int | None = None
    rate_per_minute: int | None = None
    cost_per_message: float = 0
    daily_cost_limit: float | None = None
    credentials_set: bool = False
    updated_at: str | None = None


class ChannelUpdate(Model):
    model_config = STRICT
    channel: Channel
    enabled: bool | None = None
    settings: dict[str, str] | None = Field(
        default=None,
        description="email: from_address, reply_to; sms: from_number; whatsapp: from_number; "
        "push: platform_application_arn",
    )
    credentials: dict[str, str] | None = Field(
        default=None,
        description="sms/whatsapp: account_sid, auth_token. Stored in Secrets Manager, never shown again",
    )
    daily_limit: int | None = Field(default=None, ge=0, le=10_000_000)
    rate_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    cost_per_message: float | None = Field(default=None, ge=0, le=100)
    daily_cost_limit: float | None = Field(default=None, ge=0, le=1_000_000)


class ChannelTest(Model):
    model_config = STRICT
    channel: Channel
    to: str = Field(min_length=3, max_length=254, description="E-mail address, E.164 number or push token")


class ProviderAnswer(Model):
    channel: Channel
    ok: bool
    status: str
    provider_id: str | None = None
    provider_code: str | None = None
    advice: str | None = None


class ChannelStatus(Model):
    channel: Channel
    enabled: bool
    credentials_set: bool
    provider_reachable: bool | None = None
    recent: dict[str, int] = Field(default={}, description="Hops of the last 24 h by status")
    failure_rate: float | None = None
    sent_today: int = 0
    daily_limit: int | None = None


# templates -----------------------------------------------------------------------------------


class TemplateIn(Model):
    model_config = STRICT
    name: str = Name
    channel: Channel
    locale: str = Locale
    category: Category = Category.ALERTS
    subject: str | None = Field(default=None, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateUpdate(Model):
    model_config = STRICT
    category: Category | None = None
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=20_000)


class TemplateOut(TemplateIn):
    model_config = ConfigDict(extra="ignore")
    template_id: str
    created_at: str
    updated_at: str


class PreviewRequest(Model):
    model_config = STRICT
    template_id: str | None = Field(default=None, max_length=64, description="A saved template, or:")
    channel: Channel | None = None
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=20_000)
    data: dict[str, Any] = Field(default={}, description="Sample `user`, `tenant`, `event`, `data`")

    @model_validator(mode="after")
    def _one(self) -> PreviewRequest:
        if self.template_id is None and (self.channel is None or self.body is None):
            raise ValueError("give template_id, or channel and body")
        return self


class SmsInfo(Model):
    length: int
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int


class Preview(Model):
    channel: Channel
    subject: str | None = None
    body: str
    sms: SmsInfo | None = None


# rules ---------------------------------------------------------------------------------------


class Condition(Model):
    model_config = STRICT
    field: str = Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$", description="`data.to_role`")
    op: Literal["eq", "ne", "in", "exists"] = "eq"
    value: Any = None


class Recipients(Model):
    model_config = STRICT
    subject: bool = Field(default=True, description="The user the event is about (`data.user_id`)")
    roles: list[str] = Field(default=[], max_length=20)
    emails: list[str] = Field(default=[], max_length=50)
    phones: list[str] = Field(default=[], max_length=50)


class RuleIn(Model):
    model_config = STRICT
    name: str = Field(min_length=2, max_length=120)
    trigger: str = Field(
        max_length=80, description="An event type (see `TRIGGERS`), e.g. `user.role_changed`"
    )
    conditions: list[Condition] = Field(default=[], max_length=20)
    recipients: Recipients = Recipients()
    channels: list[Channel] = Field(min_length=1, max_length=5, description="Tried in order")
    template: str = Name
    category: Category = Category.ALERTS
    active: bool = True


class RuleUpdate(Model):
    model_config = STRICT
    name: str | None = Field(default=None, min_length=2, max_length=120)
    conditions: list[Condition] | None = Field(default=None, max_length=20)
    recipients: Recipients | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=5)
    template: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    category: Category | None = None
    active: bool | None = None


class RuleOut(RuleIn):
    model_config = ConfigDict(extra="ignore")
    rule_id: str
    created_at: str
    updated_at: str


class RuleTest(Model):
    model_config = STRICT
    data: dict[str, Any] = Field(description="A sample event's data, e.g. `{user_id, from_role, to_role}`")


class DryRunRecipient(Model):
    recipient: str
    user_id: str | None = None
    channels: list[Channel]
    preview: Preview | None = None


class DryRun(Model):
    matches: bool
    reason: str | None = None
    recipients: list[DryRunRecipient] = []


# sending -------------------------------------------------------------------------------------


class Content(Model):
    """What is sent: a template name (one per channel and locale), or inline subject and body."""

    model_config = STRICT
    template: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    subject: str | None = Field(default=None, max_length=500)
    body: str | None = Field(default=None, max_length=20_000)
    data: dict[str, Any] = {}


class SendRequest(Content):
    user_id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32, description="E.164")
    channels: list[Channel] = Field(min_length=1, max_length=5, description="Tried in order (fallback)")
    category: Category = Category.TRANSACTIONAL
    urgent: bool = Field(default=False, description="Ignores quiet hours")


class Audience(Model):
    model_config = STRICT
    kind: Literal["all", "role", "tenant", "plan", "users"]
    roles: list[str] = Field(default=[], max_length=20)
    tenant_ids: list[str] = Field(default=[], max_length=100, description="kind tenant (platform staff)")
    plans: list[str] = Field(default=[], max_length=10, description="kind plan (platform staff)")
    user_ids: list[str] = Field(default=[], max_length=1000)


class BulkSendRequest(Content):
    audience: Audience
    channels: list[Channel] = Field(min_length=1, max_length=5)
    category: Category = Category.ANNOUNCEMENTS
    send_at: str | None = Field(default=None, description="ISO 8601; absent: now")

    @field_validator("send_at")
    @classmethod
    def _when(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from keel.core import clock

        try:
            return clock.iso(clock.parse(value))
        except ValueError as exc:
            raise ValueError(
                "send_at must be an ISO 8601 time with a zone, e.g. 2026-12-01T09:00:00Z"
            ) from exc


class BulkSendOut(Model):
    send_id: str
    status: Literal["scheduled", "enqueued", "cancelled"]
    audience: Audience
    channels: list[Channel]
    category: Category
    send_at: str | None = None
    created_at: str
    created_by: str


class Hop(Model):
    channel: Channel
    status: Status
    to: str | None = None
    provider_id: str | None = None
    error: str | None = None
    advice: str | None = None
    at: str | None = None


class NotificationOut(Model):
    notification_id: str
    status: Status
    user_id: str | None = None
    category: Category
    channels: list[Channel]
    hops: list[Hop] = []
    source: str | None = None
    created_at: str
    updated_at: str | None = None


# preferences and inbox -----------------------------------------------------------------------


class QuietHours(Model):
    model_config = STRICT
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("timezone must be an IANA zone such as Europe/London") from exc
        return value


class Preferences(Model):
    channels: dict[Channel, bool] = Field(default={}, description="A channel off for every category")
    categories: dict[Category, dict[Channel, bool]] = Field(default={}, description="Per category")
    quiet_hours: QuietHours | None = None
    locale: str = "en"
    push_tokens: list[str] = Field(default=[], max_length=10)
    mandatory: list[Category] = Field(default=sorted(MANDATORY), description="Always sent")


class PreferencesUpdate(Model):
    model_config = STRICT
    channels: dict[Channel, bool] | None = None
    categories: dict[Category, dict[Channel, bool]] | None = None
    quiet_hours: QuietHours | None = None
    clear_quiet_hours: bool = False
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    push_tokens: list[str] | None = Field(default=None, max_length=10)


class InboxItem(Model):
    notification_id: str
    subject: str | None = None
    body: str
    category: Category
    read: bool = False
    created_at: str


class InboxPage(Model):
    items: list[InboxItem]
    unread: int
    next_cursor: str | None = None


class MarkRead(Model):
    model_config = STRICT
    notification_ids: list[str] = Field(default=[], max_length=100)
    all: bool = False


class MarkedRead(Model):
    marked: int
    unread: int
