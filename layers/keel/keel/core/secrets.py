"""The app secret (Secrets Manager, APP_SECRET_ARN): provider keys, read once per process."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from keel.core import aws
from keel.core.config import settings


@cache
def app_secret() -> dict[str, Any]:
    arn = settings().app_secret_arn
    if not arn:
        return {}
    raw = aws.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString") or "{}"
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


aws.on_reset(app_secret.cache_clear)
