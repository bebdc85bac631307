"""/docs works with no internet: Swagger UI's files come from the API itself (issue 8, item 3)."""

from __future__ import annotations

import json

from tests.support.http import Api
from tests.support.pages import parse

EXPECTED = {
    "/docs/swagger-ui-bundle.js": ("text/javascript", "SwaggerUIBundle"),
    "/docs/swagger-ui.css": ("text/css", ".swagger-ui"),
    "/docs/init.js": ("text/javascript", "SwaggerUIBundle("),
}


def test_docs_page_and_its_assets_are_served_here_and_reference_no_other_host(api: Api) -> None:
    page = api.get("/docs")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    found = parse(page.text)
    assert found.external == []
    assert sorted(found.assets) == sorted(EXPECTED)
    for url, (content_type, marker) in EXPECTED.items():
        asset = api.get(url)
        assert asset.status == 200, url
        assert asset.headers["content-type"].startswith(content_type), url
        assert marker in asset.text, url
    spec = api.get("/openapi.json")
    assert (spec.status, json.loads(spec.text)["openapi"]) == (200, "3.1.0")  # Swagger UI 5 renders 3.1


def test_an_unknown_docs_asset_is_404(api: Api) -> None:
    reply = api.get("/docs/..%2Fapp.py")
    assert (reply.status, reply.code) == (404, "API_006")
    assert api.get("/docs/index.html").status == 404
