"""System routes: health, the error catalogue, the API spec and docs, and unknown routes."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

from importlib import resources
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from keel.core.errors import ErrorCode, KeelError
from keel.http import create_app, entrypoint, public
from keel.system import error_codes, health

app = create_app()

# Swagger UI is served from files shipped with this function (swagger_ui/VERSION says which), so
# the docs work offline and in locked-down networks; nothing is loaded from another host.
SWAGGER_UI = Path(__file__).resolve().parent / "swagger_ui"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "init.js": "text/javascript; charset=utf-8",
}
DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Keel API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui" data-spec="/openapi.json"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>"""
DOCS_HEADERS = {
    # Swagger UI sets inline styles on its elements; scripts only from this API
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


@app.get("/health", operation_id="health", middlewares=[public()], tags=["system"])
def get_health() -> Response[health.Health]:
    result = health.check()
    return Response(
        status_code=200 if result.status == "ok" else 503, body=result, content_type="application/json"
    )


@app.get("/error-codes", operation_id="get_error_codes", middlewares=[public()], tags=["system"])
def get_error_codes() -> list[error_codes.ErrorCodeOut]:
    return error_codes.catalogue()


@app.get("/openapi.json", operation_id="get_openapi", middlewares=[public()], include_in_schema=False)
def openapi() -> Response[str]:
    spec = resources.files("keel").joinpath("openapi.json").read_text()
    return Response(status_code=200, body=spec, content_type="application/json")


@app.get("/docs", operation_id="get_docs", middlewares=[public()], include_in_schema=False)
def docs() -> Response[str]:
    return Response(
        status_code=200, body=DOCS_HTML, content_type="text/html; charset=utf-8", headers=DOCS_HEADERS
    )


@app.get("/docs/<asset>", operation_id="get_docs_asset", middlewares=[public()], include_in_schema=False)
def docs_asset(asset: str) -> Response[str]:
    content_type = ASSETS.get(asset)
    if content_type is None:
        raise KeelError(ErrorCode.API_006, f"No route for /docs/{asset}")
    return Response(
        status_code=200,
        body=(SWAGGER_UI / asset).read_text(),
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


lambda_handler = entrypoint(app)
