"""System routes: health, the error catalogue, the API spec and docs, and unknown routes."""

from __future__ import annotations

from importlib import resources

from aws_lambda_powertools.event_handler import Response

from keel.http import create_app, entrypoint, public
from keel.system import error_codes, health

app = create_app()

DOCS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Keel API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


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
    return Response(status_code=200, body=DOCS_HTML, content_type="text/html")


lambda_handler = entrypoint(app)
