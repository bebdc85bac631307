"""Invitation routes: invite, list, resend, revoke, and accept (public, from the mailed link)."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import DEFAULT_LIMIT, Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.http import create_app, entrypoint, principal, public, request_meta, requires
from keel.http.params import Cursor, Limit, TenantParam
from keel.invitations import service
from keel.invitations.models import InvitationAccept, InvitationCreate, InvitationOut, InvitationStatus
from keel.users.models import UserOut

app = create_app()


@app.post(
    "/invitations",
    operation_id="create_invitation",
    middlewares=[requires(Permission.INVITATIONS_MANAGE)],
    tags=["invitations"],
)
def create_invitation(body: InvitationCreate, tenant_id: TenantParam = None) -> Response[InvitationOut]:
    created = service.create(principal(app), tenant_id, body)
    return Response(status_code=201, body=created, content_type="application/json")


@app.get(
    "/invitations",
    operation_id="list_invitations",
    middlewares=[requires(Permission.INVITATIONS_MANAGE)],
    tags=["invitations"],
)
def list_invitations(
    tenant_id: TenantParam = None,
    status: Annotated[InvitationStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[InvitationOut]:
    return service.list_invitations(principal(app), tenant_id, status, limit, cursor)


@app.post(
    "/invitations/accept", operation_id="accept_invitation", middlewares=[public()], tags=["invitations"]
)
def accept_invitation(body: InvitationAccept) -> Response[UserOut]:
    caller = Principal.system(job="invitations").with_meta(request_meta(app))
    return Response(status_code=201, body=service.accept(body, caller), content_type="application/json")


@app.post(
    "/invitations/<invitation_id>/resend",
    operation_id="resend_invitation",
    middlewares=[requires(Permission.INVITATIONS_MANAGE)],
    tags=["invitations"],
)
def resend_invitation(invitation_id: str, tenant_id: TenantParam = None) -> InvitationOut:
    return service.resend(principal(app), tenant_id, invitation_id)


@app.post(
    "/invitations/<invitation_id>/revoke",
    operation_id="revoke_invitation",
    middlewares=[requires(Permission.INVITATIONS_MANAGE)],
    tags=["invitations"],
)
def revoke_invitation(invitation_id: str, tenant_id: TenantParam = None) -> InvitationOut:
    return service.revoke(principal(app), tenant_id, invitation_id)


lambda_handler = entrypoint(app)
