"""The API spec: every function's routes merged into one OpenAPI 3.1 document.

Each operation declares every status it can answer: its success status (the one its handler
returns), the request pipeline's refusals (401/403 unless public; 400/413/415/422 with a body;
422 with parameters; 404 with an id in the path or a tenant; 409 on writes and keyed retries)
and its domain's own errors (`DOMAIN_ERRORS`), each with the error schema and its codes.

`python -m infra.openapi --write` regenerates the committed copy that the system function serves;
`--check` fails when the committed copy differs from the code (make test runs it through a test).
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from typing import Any

from infra.apps import ROOT, api_modules, ensure_paths

SPEC_PATH = ROOT / "layers" / "keel" / "keel" / "openapi.json"
TITLE = "Keel API"
VERSION = "1.0.0"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

# What each operation's domain can answer beyond the pipeline's refusals (error code names).
_LINK = ["SAAS_012"]
_LOGIN = ["AUTH_001", "AUTH_002", "AUTH_003", "AUTH_005", "AUTH_007", "AUTH_008", "SAAS_010", "SAAS_007"]
DOMAIN_ERRORS: dict[str, list[str]] = {
    "login": _LOGIN,
    "verify_2fa": [*_LOGIN, "AUTH_006"],
    "activate_account": [*_LINK, "AUTH_003", "SAAS_006"],
    "resend_activation": ["SAAS_010"],
    "request_password_reset": ["SAAS_010"],
    "reset_password": [*_LINK, "AUTH_003"],
    "change_password": ["AUTH_001", "SAAS_005", "SAAS_010"],
    "enroll_2fa": ["SAAS_005", "SAAS_007", "SAAS_010"],
    "confirm_2fa_enrollment": ["AUTH_006", "SAAS_005", "SAAS_010"],
    "generate_backup_codes": ["SAAS_005"],
    "accept_invitation": [*_LINK, "SAAS_006"],
    "confirm_email_change": _LINK,
    "start_impersonation": ["SAAS_005"],
    "create_user": ["SAAS_006"],
    "force_password_reset": ["SAAS_005"],
    "admin_reset_password": ["SAAS_005"],
    "health": ["SAAS_009"],
    # notifications (issue 10)
    "test_channel": ["SAAS_034"],
    "send_notification": ["SAAS_002"],
    "twilio_status_callback": ["SAAS_005"],
    # checkout (issue 13)
    "get_inventory": ["SAAS_060"],
    "create_checkout_session": ["SAAS_060", "SAAS_061", "SAAS_062", "SAAS_063"],
    "update_event": ["SAAS_060"],
    "list_inventory_transactions": ["SAAS_060"],
    "audit_inventory": ["SAAS_060"],
    "expand_inventory": ["SAAS_060"],
    "correct_inventory": ["SAAS_060"],
    "list_registrations": ["SAAS_060"],
    "list_oversold_registrations": ["SAAS_060"],
    "notify_oversold_registrations": ["SAAS_060"],
    # webhooks (issue 11)
    "retry_webhook_delivery": ["SAAS_011", "SAAS_040", "SAAS_042"],
    "retry_failed_webhook_deliveries": ["SAAS_011", "SAAS_040"],
    "get_webhook_stats": ["SAAS_040"],
    "list_webhook_deliveries": ["API_005"],
    # flags
    **{op: ["SAAS_004"] for op in ("get_flag", "list_flag_history", "get_flag_metrics")},
    **{
        op: ["SAAS_004"]
        for op in ("list_scheduled_flag_changes", "preview_flag_targeting", "ofrep_evaluate_flag")
    },
    **{
        op: ["SAAS_004", "SAAS_020"]
        for op in (
            "update_flag",
            "toggle_flag",
            "update_flag_targeting",
            "archive_flag",
            "schedule_flag_change",
        )
    },
    "cancel_scheduled_flag_change": ["SAAS_004", "SAAS_021", "SAAS_022"],
}
# payments (issue 12)
DOMAIN_ERRORS |= {
    "stripe_webhook": ["SAAS_050", "SAAS_051"],
    "nomba_webhook": ["SAAS_050", "SAAS_051"],
    "reprocess_gateway_event": ["SAAS_059"],
    "get_payment": ["SAAS_055"],
    "refund_payment": ["SAAS_052", "SAAS_053", "SAAS_055"],
    "get_invoice": ["SAAS_056"],
    "mark_invoice_paid": ["SAAS_056"],
    "update_plan": ["SAAS_057"],
    "get_subscription": ["SAAS_058"],
    "change_subscription_plan": ["SAAS_053", "SAAS_054", "SAAS_058"],
    "cancel_subscription": ["SAAS_053", "SAAS_058"],
    "renew_subscription": ["SAAS_053", "SAAS_058"],
}
# The link pages' forms do what their JSON operations do, answering a page at the same status.
_PASSWORD = ["API_007", "SAAS_005"]
DOMAIN_ERRORS |= {
    "submit_activation_form": [*DOMAIN_ERRORS["activate_account"], *_PASSWORD],
    "submit_invitation_form": [*DOMAIN_ERRORS["accept_invitation"], *_PASSWORD],
    "submit_password_reset_form": [*DOMAIN_ERRORS["reset_password"], *_PASSWORD],
    "submit_email_change_form": DOMAIN_ERRORS["confirm_email_change"],
}

# Operations whose success body is not (only) JSON.
SUCCESS_CONTENT: dict[str, dict[str, Any]] = {
    "export_audit_logs": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/AuditRecord"}}
        },
    },
}


def error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "request_id"],
                "properties": {
                    "code": {"type": "string", "description": "See GET /error-codes"},
                    "message": {"type": "string"},
                    "request_id": {"type": ["string", "null"]},
                    "details": {
                        "type": "array",
                        "items": {"type": "object", "additionalProperties": True},
                    },
                },
            }
        },
    }


def _success_status(route: Any) -> int:
    """The status a thin handler answers: `Response(status_code=N, ...)` in its body, else 200."""
    source = inspect.getsource(route.func)
    found = re.findall(r"status_code=(\d{3})\b", source)
    return int(found[0]) if found else 200


def _body_fields(op: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return set(schemas.get(ref.rsplit("/", 1)[-1], schema).get("properties", {}))


def error_codes_of(route: Any, op: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """Every error code the request pipeline and the operation's domain can answer."""
    from keel.http.auth import access_of

    access = access_of(route.middlewares)
    params = op.get("parameters", [])
    has_body = "requestBody" in op
    codes = set(DOMAIN_ERRORS.get(op["operationId"], []))
    if access is not None and not access.public:
        codes |= {"AUTH_001", "AUTH_004", "SAAS_001"}
    if has_body:
        codes |= {"API_005", "API_007", "API_010", "API_012"}
    if params:
        codes.add("API_007")
    if any(p["name"] == "cursor" for p in params):
        codes.add("API_005")  # a cursor that is not one of ours
    named = {p["name"] for p in params if p["in"] != "path"} | _body_fields(op, schemas)
    if any(p["in"] == "path" for p in params) or any(n.endswith("_id") for n in named):
        codes.add("API_006")  # an id that is not there, or is another tenant's
    if route.method != "GET":
        codes.add("SAAS_011")  # the item changed meanwhile, or the change does not apply to its state
    if route.method == "POST":
        codes.add("API_011")
        if access is not None and access.secret:
            codes.add("API_013")
    return codes


def error_responses(codes: set[str]) -> dict[str, Any]:
    from keel.core.errors import ErrorCode

    by_status: dict[int, list[ErrorCode]] = {}
    for name in sorted(codes):
        code = ErrorCode[name]
        by_status.setdefault(code.status, []).append(code)
    return {
        str(status): {
            "description": "; ".join(f"{c.name} {c.title}" for c in found),
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        for status, found in sorted(by_status.items())
    }


def _powertools_validation(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in json.dumps(response)


def _document(route: Any, op: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The success status, then every error status; a status the route declares itself (a link
    page answers its refusals as HTML) keeps its content beside the pipeline's JSON error."""
    declared = {s: r for s, r in op.get("responses", {}).items() if not _powertools_validation(r)}
    success = declared.pop("200", {"description": "Successful Response"})
    if op["operationId"] in SUCCESS_CONTENT:
        success["content"] = SUCCESS_CONTENT[op["operationId"]]
    errors = error_responses(error_codes_of(route, op, schemas))
    for status, response in declared.items():
        if status in errors:
            errors[status]["content"] = {**errors[status]["content"], **response.get("content", {})}
        else:
            errors[status] = response
    status = _success_status(route)
    if status == 204:
        success.pop("content", None)  # No Content: no body, no media type
    op["responses"] = {str(status): success, **dict(sorted(errors.items()))}


def build() -> dict[str, Any]:
    ensure_paths()
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": 'Multi-tenant SaaS backend. Errors: `{"error": {"code", "message", '
            '"request_id"}}`; see GET /error-codes.',
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "schemas": {"Error": error_schema()},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
    from keel.http.auth import access_of

    for module in api_modules().values():
        app = module.app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        routes = {route.operation_id: route for route in [*app._static_routes, *app._dynamic_routes]}
        for path, ops in part.get("paths", {}).items():
            for method, op in ops.items():
                route = routes[op["operationId"]]
                access = access_of(route.middlewares)
                if access is not None and access.public:
                    op["security"] = []
                _document(route, op, part.get("components", {}).get("schemas", {}))
                spec["paths"].setdefault(path, {})[method] = op
        spec["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        spec["components"]["schemas"].pop(unused, None)  # Powertools' error shapes; ours is Error
    spec["paths"] = dict(sorted(spec["paths"].items()))
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=1, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write the committed copy")
    parser.add_argument("--check", action="store_true", help="fail if the committed copy is stale")
    args = parser.parse_args()
    text = render(build())
    if args.write:
        SPEC_PATH.write_text(text)
        print(f"wrote {SPEC_PATH.relative_to(ROOT)}")
        return 0
    if args.check:
        current = SPEC_PATH.read_text() if SPEC_PATH.exists() else ""
        if current != text:
            print("openapi.json is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
