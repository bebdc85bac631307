"""Checkout routes: workshop events, public availability, checkout, the inventory ledger,
registrations and oversold customers (issue 13)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from keel.checkout import events, holds, ledger, registrations
from keel.checkout.models import (
    CITY_PATTERN,
    CheckoutOut,
    CheckoutRequest,
    CorrectRequest,
    EventCreate,
    EventOut,
    EventUpdate,
    ExpandRequest,
    InventoryAudit,
    LedgerEntry,
    NotifyResult,
    PublicInventory,
    RegistrationOut,
    Tier,
    TierOut,
)
from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.http import create_app, entrypoint, principal, public, request_meta, requires
from keel.http.params import Cursor, Limit, TenantParam

app = create_app()
TAGS = ["checkout"]
CityId = Annotated[str, Path(pattern=CITY_PATTERN, description="e.g. `dallas-jan-2026`")]
PublicTenant = Annotated[str, Path(max_length=64, description="The organiser's tenant id")]
CACHE_CONTROL = "public, max-age=5, stale-while-revalidate=30"


@app.post("/events", operation_id="create_event", middlewares=[requires(Permission.EVENTS_MANAGE)], tags=TAGS)
def create_event(body: EventCreate, tenant_id: TenantParam = None) -> Response[EventOut]:
    out = events.create_event(principal(app), tenant_id, body)
    return Response(status_code=201, body=out, content_type="application/json")


@app.get("/events", operation_id="list_events", middlewares=[requires(Permission.EVENTS_READ)], tags=TAGS)
def list_events(
    tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[EventOut]:
    return events.list_events(principal(app), tenant_id, limit, cursor)


@app.patch(
    "/events/<city_id>",
    operation_id="update_event",
    middlewares=[requires(Permission.EVENTS_MANAGE)],
    tags=TAGS,
)
def update_event(city_id: CityId, body: EventUpdate, tenant_id: TenantParam = None) -> EventOut:
    return events.update_event(principal(app), tenant_id, city_id, body)


class NotModified(Exception):
    """304, answered by its exception handler: no response model validates its empty body."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not modified")
        self.headers = headers


@app.exception_handler(NotModified)
def _not_modified(exc: NotModified) -> Response[str]:
    return Response(status_code=304, body="", headers=exc.headers)


@app.get(
    "/public/<tenant>/events/<city_id>/inventory",
    operation_id="get_inventory",
    middlewares=[public()],
    tags=TAGS,
    responses={304: {"description": "Not modified: the `If-None-Match` ETag is current"}},
)
def get_inventory(tenant: PublicTenant, city_id: CityId) -> Response[PublicInventory]:
    body = events.public_inventory(tenant, city_id)
    tag = events.etag(body)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    wanted = (app.current_event.headers or {}).get("if-none-match") or ""
    if tag in {t.strip() for t in wanted.split(",")} or wanted.strip() == "*":
        raise NotModified(headers)
    return Response(status_code=200, body=body, content_type="application/json", headers=headers)


@app.post(
    "/public/<tenant>/checkout-sessions",
    operation_id="create_checkout_session",
    middlewares=[public()],
    tags=TAGS,
)
def create_checkout_session(tenant: PublicTenant, body: CheckoutRequest) -> Response[CheckoutOut]:
    out = holds.create_checkout(tenant, body, request_meta(app))
    return Response(status_code=201, body=out, content_type="application/json")


@app.get(
    "/events/<city_id>/inventory/transactions",
    operation_id="list_inventory_transactions",
    middlewares=[requires(Permission.EVENTS_READ)],
    tags=TAGS,
)
def list_inventory_transactions(
    city_id: CityId,
    tier: Annotated[Tier | None, Query()] = None,
    tenant_id: TenantParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[LedgerEntry]:
    return ledger.list_transactions(principal(app), tenant_id, city_id, tier, limit, cursor)


@app.get(
    "/events/<city_id>/inventory/audit",
    operation_id="audit_inventory",
    middlewares=[requires(Permission.EVENTS_READ)],
    tags=TAGS,
)
def audit_inventory(city_id: CityId, tenant_id: TenantParam = None) -> InventoryAudit:
    return ledger.audit(principal(app), tenant_id, city_id)


@app.post(
    "/events/<city_id>/inventory/expansions",
    operation_id="expand_inventory",
    middlewares=[requires(Permission.INVENTORY_ADJUST)],
    tags=TAGS,
)
def expand_inventory(city_id: CityId, body: ExpandRequest, tenant_id: TenantParam = None) -> TierOut:
    return ledger.expand(principal(app), tenant_id, city_id, body)


@app.post(
    "/events/<city_id>/inventory/corrections",
    operation_id="correct_inventory",
    middlewares=[requires(Permission.INVENTORY_ADJUST)],
    tags=TAGS,
)
def correct_inventory(city_id: CityId, body: CorrectRequest, tenant_id: TenantParam = None) -> TierOut:
    return ledger.correct(principal(app), tenant_id, city_id, body)


@app.get(
    "/events/<city_id>/registrations",
    operation_id="list_registrations",
    middlewares=[requires(Permission.EVENTS_READ)],
    tags=TAGS,
)
def list_registrations(
    city_id: CityId, tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[RegistrationOut]:
    return registrations.list_registrations(principal(app), tenant_id, city_id, limit, cursor)


@app.get(
    "/events/<city_id>/registrations/oversold",
    operation_id="list_oversold_registrations",
    middlewares=[requires(Permission.EVENTS_READ)],
    tags=TAGS,
)
def list_oversold_registrations(
    city_id: CityId, tenant_id: TenantParam = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[RegistrationOut]:
    return registrations.list_oversold(principal(app), tenant_id, city_id, limit, cursor)


@app.post(
    "/events/<city_id>/registrations/oversold/notify",
    operation_id="notify_oversold_registrations",
    middlewares=[requires(Permission.EVENTS_MANAGE)],
    tags=TAGS,
)
def notify_oversold_registrations(city_id: CityId, tenant_id: TenantParam = None) -> NotifyResult:
    return registrations.notify_oversold(principal(app), tenant_id, city_id)


lambda_handler = entrypoint(app)
