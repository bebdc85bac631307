"""A Lambda handler for the local runtime's tests: sleeps as asked, tells which instance answered."""

from __future__ import annotations

import json
import os
import time
from typing import Any

state = {"invocations": 0}  # module state: one count per instance, as in a Lambda execution environment


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state["invocations"] += 1
    query = event.get("queryStringParameters") or {}
    time.sleep(float(query.get("sleep", event.get("sleep", 0))))
    if query.get("fail") or event.get("fail"):
        raise ValueError("asked to fail")
    body = {
        "pid": os.getpid(),
        "invocations": state["invocations"],
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
