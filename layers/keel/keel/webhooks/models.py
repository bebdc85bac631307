"""Webhook endpoints, messages and attempts as shown, and the requests of the webhook routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from keel.core.model import Model

MAX_TIMEOUT = 30
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
# headers Keel sets itself or that would change how the request is framed
RESERVED_HEADERS = {"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"}
DeliveryStatus = Literal["pending", "retrying", "succeeded", "failed"]


def _check_headers(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    for name, val in value.items():
        lower = name.lower()
        if not HEADER_NAME.match(name) or lower in RESERVED_HEADERS or lower.startswith("webhook-"):
            raise ValueError(f"header {name!r} cannot be set")
        if "\r" in val or "\n" in val or len(val) > 1024:
            raise ValueError(f"header {name!r}: one line of at most 1024 characters")
    return value


class EndpointCreate(Model):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        min_length=8, max_length=2048, description="https URL (checked against private addresses)"
    )
    event_types: list[str] = Field(
        min_length=1,
        max_length=100,
        description="Event types from `list_event_types`, `area.*` for all of an area, or `*`",
    )
    description: str | None = Field(default=None, max_length=500)
    headers: dict[str, str] | None = Field(default=None, max_length=20, description="Sent with every message")
    rate_limit: int | None = Field(default=None, ge=1, le=10_000, description="Messages per second, at most")
    timeout_seconds: int = Field(default=15, ge=1, le=MAX_TIMEOUT)
    active: bool = True

    _headers = field_validator("headers")(_check_headers)


class EndpointUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, min_length=8, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    headers: dict[str, str] | None = Field(default=None, max_length=20)
    rate_limit: int | None = Field(default=None, ge=1, le=10_000)
    timeout_seconds: int | None = Field(default=None, ge=1, le=MAX_TIMEOUT)
    active: bool | None = None

    _headers = field_validator("headers")(_check_headers)


class EndpointOut(Model):
    endpoint_id: str
    url: str
    event_types: list[str]
    description: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    rate_limit: int | None = None
    timeout_seconds: int
    active: bool
    disabled_reason: str | None = Field(default=None, description="`gone` (410), `failing` (5 days)")
    failing_since: str | None = None
    previous_secret_expires_at: str | None = Field(
        default=None, description="Until then messages carry both signatures"
    )
    created_at: str
    updated_at: str | None = None


class EndpointCreated(EndpointOut):
    secret: str = Field(description="`whsec_…`: shown once; verify signatures with it")


class RotateSecret(Model):
    model_config = ConfigDict(extra="forbid")
    grace_hours: int = Field(default=24, ge=0, le=168, description="How long the old secret still signs")


class SecretRotated(Model):
    endpoint_id: str
    secret: str = Field(description="The new `whsec_…` secret: shown once")
    previous_secret_expires_at: str | None = None


class TestSend(Model):
    model_config = ConfigDict(extra="forbid")
    event_type: str | None = Field(default=None, max_length=100, description="Default: `webhook.test`")


class AttemptOut(Model):
    attempt: int
    at: str
    trigger: Literal["auto", "manual", "test"]
    status_code: int | None = None
    latency_ms: float
    error: str | None = None
    response_body: str = Field(default="", description="The first 2 KB of the answer")


class TestResult(Model):
    delivery_id: str
    success: bool
    status_code: int | None = None
    latency_ms: float
    error: str | None = None
    response_body: str = ""


class EventTypeOut(Model):
    name: str
    description: str
    schema_: dict[str, object] = Field(alias="schema", description="JSON schema of the payload's `data`")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class DeliveryOut(Model):
    delivery_id: str = Field(description="Also the `webhook-id` header: stable across retries")
    endpoint_id: str
    event_id: str | None = None
    event_type: str
    status: DeliveryStatus
    created_at: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None


class DeliveryDetail(DeliveryOut):
    payload: str = Field(description="The exact body sent: `{type, timestamp, data}`")
    attempt_log: list[AttemptOut]


class RetryFailed(Model):
    model_config = ConfigDict(extra="forbid")
    since: datetime = Field(description="Messages created from (ISO 8601)")
    until: datetime = Field(description="…to (ISO 8601); at most 31 days after `since`")
    endpoint_id: str | None = Field(default=None, max_length=64)


class RetryQueued(Model):
    queued: int
    delivery_ids: list[str]


class ErrorCount(Model):
    error: str
    count: int


class EndpointStats(Model):
    endpoint_id: str
    url: str | None = None
    messages: int
    succeeded: int
    failed: int
    in_flight: int = Field(description="pending or retrying")
    attempts: int
    success_rate: float | None = Field(description="Succeeded messages / finished messages")
    attempt_success_rate: float | None
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    retry_rate: float | None = Field(description="Messages that needed more than one attempt / messages")
    top_errors: list[ErrorCount]


class Stats(Model):
    since: str
    until: str
    endpoints: list[EndpointStats]
