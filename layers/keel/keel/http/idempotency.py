"""`Idempotency-Key` on POST: a retried request gets the first answer back instead of acting twice.

The key is scoped to the caller's credentials, method and path; the same key with another body is
refused (409 API_011). Only successful answers are kept (24 h); a failed request can be retried
with the same key. Backed by Powertools Idempotency on the main table.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from keel.auth.tokens import digest
from keel.core import aws
from keel.core.config import settings
from keel.core.errors import ErrorCode, KeelError
from keel.store import keys

HEADER = "idempotency-key"
RETENTION_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


@lru_cache(maxsize=1)
def _store() -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk("api"),
        expiry_attr="expires_at",
        boto3_client=aws.client("dynamodb"),
    )


aws.on_reset(_store.cache_clear)


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

    credentials = (event.headers or {}).get("authorization", "")
    request = {
        "scope": digest(f"{credentials}|{event.path}|{key}"),
        "body": digest(event.body or ""),
    }

    def run(request: dict[str, str]) -> dict[str, Any]:
        del request
        response = next_middleware(app)
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
        run, data_keyword_argument="request", persistence_store=_store(), config=config
    )
    try:
        stored = once(request=request)
    except IdempotencyValidationError as exc:
        raise KeelError(ErrorCode.API_011, "Idempotency-Key was used with another request body") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise KeelError(ErrorCode.API_011, "A request with this Idempotency-Key is in progress") from exc
    headers = {k: v for k, v in (stored.get("headers") or {}).items() if isinstance(v, str)}
    headers["Idempotency-Key"] = key
    if stored.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    return Response(status_code=stored["status"], body=stored["body"], headers=headers)
