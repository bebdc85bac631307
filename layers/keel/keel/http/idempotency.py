"""`Idempotency-Key` on POST: a retried request gets the first answer back instead of acting twice.

Runs after authentication, authorisation and validation (`keel.http.pipeline`). A key is scoped to
the method, the path, the query string and the caller (the authenticated principal; "anonymous"
on public routes); the same key with another body is refused (409 API_011). Only successful
answers are kept (24 h); a failed request can be retried with the same key. An answer that
carries a credential (routes declared `secret=True`) is never stored: the record keeps only its
status, and a replay answers 409 API_013, so a copy of the table reveals no credential. Backed by
Powertools Idempotency on the main table (`keel.store.idempotency`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from keel.core.errors import ErrorCode, KeelError
from keel.core.principal import Principal
from keel.http.auth import PRINCIPAL, access_of
from keel.identity.tokens import digest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer

HEADER = "idempotency-key"
RETENTION_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
SCOPE = "api"


def caller_of(app: APIGatewayHttpResolver) -> str:
    """Who the key belongs to: the principal (not its token, so a refreshed session keeps its keys)."""
    found = app.context.get(PRINCIPAL)
    if not isinstance(found, Principal):
        return "anonymous"
    return f"{found.kind}:{found.tenant_id}:{found.actor}:{found.acting_as or ''}"


def scope_of(app: APIGatewayHttpResolver, key: str) -> str:
    event = app.current_event
    query = sorted(parse_qsl(event.raw_query_string or "", keep_blank_values=True))
    parts = [event.http_method.upper(), event.path, json.dumps(query), caller_of(app), key]
    return digest("\n".join(parts))


def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    event = app.current_event
    key = (event.headers or {}).get(HEADER)
    if event.http_method.upper() != "POST" or not key:
        return next_middleware(app)
    if len(key) > MAX_KEY_LENGTH:
        raise KeelError(
            ErrorCode.API_007,
            "Idempotency-Key is too long",
            details=[{"field": "Idempotency-Key", "message": f"at most {MAX_KEY_LENGTH} characters"}],
        )
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    from keel.store.idempotency import persistence

    access = access_of(getattr(app.context.get("_route"), "middlewares", None))
    secret = access is not None and access.secret
    request = {"scope": scope_of(app, key), "body": digest(event.body or "")}

    def run(request: dict[str, str]) -> dict[str, Any]:
        del request
        response = next_middleware(app)
        if secret:  # the answer is the caller's alone: handed over now, never stored
            return {"status": response.status_code, "withheld": True, "response": response}
        body = response.body
        if not isinstance(body, str | bytes | None):
            body = json.dumps(body, default=str)
        return {"status": response.status_code, "headers": dict(response.headers), "body": body}

    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="body",
        expires_after_seconds=RETENTION_SECONDS,
        response_hook=lambda stored, _record: {**stored, "replayed": True},
    )
    if app.lambda_context is not None:
        config.register_lambda_context(app.lambda_context)
    once = idempotent_function(
        run,
        data_keyword_argument="request",
        persistence_store=persistence(SCOPE),
        config=config,
        output_serializer=_serializer(),
    )
    try:
        stored = once(request=request)
    except IdempotencyValidationError as exc:
        raise KeelError(ErrorCode.API_011, "Idempotency-Key was used with another request body") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise KeelError(ErrorCode.API_011, "A request with this Idempotency-Key is in progress") from exc
    if stored.get("withheld"):
        if stored.get("replayed"):
            raise KeelError(
                ErrorCode.API_013,
                "This request was already made with this Idempotency-Key; its answer held a credential "
                "and was not kept",
            )
        response = stored["response"]
        response.headers["Idempotency-Key"] = key
        return response
    headers = {k: v for k, v in (stored.get("headers") or {}).items() if isinstance(v, str)}
    headers["Idempotency-Key"] = key
    if stored.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    return Response(status_code=stored["status"], body=stored["body"], headers=headers)


@lru_cache(maxsize=1)
def _serializer() -> BaseIdempotencySerializer:
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer

    class Stored(BaseIdempotencySerializer):
        """What is stored: the answer, or for a secret answer only its status."""

        def to_dict(self, data: dict[str, Any]) -> dict[str, Any]:
            if data.get("withheld"):
                return {"status": data["status"], "withheld": True}
            return data

        def from_dict(self, data: dict[str, Any]) -> dict[str, Any]:
            return data

    return Stored()
