"""Where idempotency records live: Powertools Idempotency on the main table, one partition per scope.

The API's `Idempotency-Key` (scope "api") and each event consumer (scope: its name) get their
records from here; nothing else builds a persistence layer.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from keel.core import aws
from keel.core.config import settings
from keel.store import keys

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer


@cache
def persistence(scope: str) -> DynamoDBPersistenceLayer:
    """The persistence layer for `scope`'s records (`IDEMPOTENCY#<scope>`), one per process."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk(scope),
        expiry_attr="expires_at",
        boto3_client=aws.client("dynamodb"),
    )


aws.on_reset(persistence.cache_clear)
