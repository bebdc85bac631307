"""The API spec: every function's routes merged into one OpenAPI 3.1 document.

`python -m infra.openapi --write` regenerates the committed copy that the system function serves;
`--check` fails when the committed copy differs from the code (make test runs it through a test).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from infra.apps import ROOT, api_modules

SPEC_PATH = ROOT / "layers" / "keel" / "keel" / "openapi.json"
TITLE = "Keel API"
VERSION = "1.0.0"


def build() -> dict[str, Any]:
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
            "schemas": {},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
    for module in api_modules().values():
        app = module.app
        part = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
        public_ops = {
            route.operation_id
            for route in [*app._static_routes, *app._dynamic_routes]
            if any(getattr(m, "public", False) for m in (route.middlewares or ()))
        }
        for path, ops in part.get("paths", {}).items():
            for method, op in ops.items():
                if op.get("operationId") in public_ops:
                    op["security"] = []
                spec["paths"].setdefault(path, {})[method] = op
        spec["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
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
