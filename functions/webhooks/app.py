"""Webhook routes: endpoints and secrets, the event catalogue, the delivery log, redelivery, stats."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.webhooks import service
from keel.webhooks.models import (
    DeliveryDetail,
    DeliveryOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointUpdate,
    EventTypeOut,
    RetryFailed,
    RetryQueued,
    RotateSecret,
    SecretRotated,
    Stats,
    TestResult,
    TestSend,
)

app = create_app()
READ, MANAGE = [requires(Permission.WEBHOOKS_READ)], [requires(Permission.WEBHOOKS_MANAGE)]
Since = Annotated[
    datetime | None, Query(description="From (ISO 8601 with zone); default 7 days before `until`")
]
Until = Annotated[datetime | None, Query(description="To (ISO 8601 with zone); default now")]
EndpointFilter = Annotated[str | None, Query(max_length=64)]


@app.get("/webhooks/event-types", operation_id="list_event_types", middlewares=READ, tags=["webhooks"])
def list_event_types() -> Page[EventTypeOut]:
    return service.list_event_types(principal(app))


@app.get("/webhooks/endpoints", operation_id="list_webhook_endpoints", middlewares=READ, tags=["webhooks"])
def list_endpoints(tenant_id: TenantParam = None) -> Page[EndpointOut]:
    return service.list_endpoints(principal(app), tenant_id)


@app.post(
    "/webhooks/endpoints",
    operation_id="create_webhook_endpoint",
    middlewares=[requires(Permission.WEBHOOKS_MANAGE, secret=True)],
    tags=["webhooks"],
)
def create_endpoint(body: EndpointCreate, tenant_id: TenantParam = None) -> Response[EndpointCreated]:
    created = service.create_endpoint(principal(app), tenant_id, body)
    return Response(status_code=201, body=created, content_type="application/json")


@app.patch(
    "/webhooks/endpoints/<endpoint_id>",
    operation_id="update_webhook_endpoint",
    middlewares=MANAGE,
    tags=["webhooks"],
)
def update_endpoint(endpoint_id: str, body: EndpointUpdate, tenant_id: TenantParam = None) -> EndpointOut:
    return service.update_endpoint(principal(app), tenant_id, endpoint_id, body)


@app.delete(
    "/webhooks/endpoints/<endpoint_id>",
    operation_id="delete_webhook_endpoint",
    middlewares=MANAGE,
    tags=["webhooks"],
)
def delete_endpoint(endpoint_id: str, tenant_id: TenantParam = None) -> Response[None]:
    service.delete_endpoint(principal(app), tenant_id, endpoint_id)
    return Response(status_code=204, body=None)


@app.post(
    "/webhooks/endpoints/<endpoint_id>/rotate-secret",
    operation_id="rotate_webhook_secret",
    middlewares=[requires(Permission.WEBHOOKS_MANAGE, secret=True)],
    tags=["webhooks"],
)
def rotate_secret(endpoint_id: str, body: RotateSecret, tenant_id: TenantParam = None) -> SecretRotated:
    return service.rotate_secret(principal(app), tenant_id, endpoint_id, body)


@app.post(
    "/webhooks/endpoints/<endpoint_id>/test",
    operation_id="test_webhook_endpoint",
    middlewares=MANAGE,
    tags=["webhooks"],
)
def send_test(endpoint_id: str, body: TestSend, tenant_id: TenantParam = None) -> TestResult:
    return service.test_endpoint(principal(app), tenant_id, endpoint_id, body)


@app.get("/webhooks/deliveries", operation_id="list_webhook_deliveries", middlewares=READ, tags=["webhooks"])
def list_deliveries(
    since: Since = None,
    until: Until = None,
    endpoint_id: EndpointFilter = None,
    status: Annotated[Literal["pending", "retrying", "succeeded", "failed"] | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    tenant_id: TenantParam = None,
) -> Page[DeliveryOut]:
    return service.list_deliveries(
        principal(app),
        tenant_id,
        since=since,
        until=until,
        endpoint_id=endpoint_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )


@app.post(
    "/webhooks/deliveries/retry-failed",
    operation_id="retry_failed_webhook_deliveries",
    middlewares=MANAGE,
    tags=["webhooks"],
)
def retry_failed(body: RetryFailed, tenant_id: TenantParam = None) -> RetryQueued:
    return service.retry_failed(principal(app), tenant_id, body)


@app.get(
    "/webhooks/deliveries/<delivery_id>",
    operation_id="get_webhook_delivery",
    middlewares=READ,
    tags=["webhooks"],
)
def get_delivery(delivery_id: str, tenant_id: TenantParam = None) -> DeliveryDetail:
    return service.get_delivery(principal(app), tenant_id, delivery_id)


@app.post(
    "/webhooks/deliveries/<delivery_id>/retry",
    operation_id="retry_webhook_delivery",
    middlewares=MANAGE,
    tags=["webhooks"],
)
def retry_delivery(delivery_id: str, tenant_id: TenantParam = None) -> DeliveryOut:
    return service.retry_delivery(principal(app), tenant_id, delivery_id)


@app.get("/webhooks/stats", operation_id="get_webhook_stats", middlewares=READ, tags=["webhooks"])
def get_stats(
    since: Since = None,
    until: Until = None,
    endpoint_id: EndpointFilter = None,
    tenant_id: TenantParam = None,
) -> Stats:
    return service.stats(principal(app), tenant_id, since=since, until=until, endpoint_id=endpoint_id)


lambda_handler = entrypoint(app)
