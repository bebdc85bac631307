"""The committed OpenAPI spec as the tests walk it: every operation, public or not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[2] / "layers/keel/keel/openapi.json"

# The caller's own things only: no parameter can name another user's or tenant's data.
SELF_ONLY = frozenset(
    {
        "logout",
        "refresh_session",
        "change_password",
        "enroll_2fa",
        "confirm_2fa_enrollment",
        "generate_backup_codes",
        # notifications (issue 10): one's own preferences and inbox
        "get_notification_preferences",
        "update_notification_preferences",
        "list_inbox",
        "mark_inbox_read",
        "list_event_types",  # webhooks (issue 11): the platform's catalogue, nothing of a tenant
        # flags: evaluated for the caller's own session, whatever the body's context says
        "evaluate_flags",
        "ofrep_evaluate_flags",
    }
)


def operations() -> list[dict[str, Any]]:
    """Each operation with `method`, `path` and `public` (no security requirement) added."""
    spec = json.loads(SPEC.read_text())
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                secured = op.get("security", spec.get("security"))
                out.append({**op, "method": method.upper(), "path": path, "public": not secured})
    return out
