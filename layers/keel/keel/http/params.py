"""Query parameters every listing or tenant-scoped route shares (one definition, one spec)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.pagination import MAX_LIMIT

TenantParam = Annotated[str | None, Query(max_length=64, description="Super admins: another tenant")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2048)]
