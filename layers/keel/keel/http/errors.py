"""Error responses: `{"error": {"code", "message", "request_id", "details"?}}` with the code's status."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from keel.core.errors import ErrorCode, KeelError


def error_response(
    code: ErrorCode,
    message: str,
    request_id: str | None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code.name, "message": message, "request_id": request_id}
    if details:
        body["details"] = details
    return Response(
        status_code=status or code.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": body}),
        headers=headers or {},
    )


def from_keel_error(exc: KeelError, request_id: str | None) -> Response:
    return error_response(exc.code, exc.message, request_id, exc.details, exc.headers)


def validation_details(errors: list[Any]) -> tuple[ErrorCode, list[dict[str, Any]]]:
    """Pydantic errors as `{field, message}`; a body that is not JSON is API_005, not API_007."""
    details: list[dict[str, Any]] = []
    for err in errors:
        if err.get("type") == "json_invalid":
            return ErrorCode.API_005, [{"field": "body", "message": "Body is not valid JSON"}]
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc)
        details.append(
            {"field": field or "body", "message": err.get("msg", "invalid"), "type": err.get("type")}
        )
    return ErrorCode.API_007, details
