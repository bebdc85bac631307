"""What a request tells about its caller's connection (IP, user agent, country, request id)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from keel.core.principal import RequestMeta


def request_meta(app: APIGatewayHttpResolver) -> RequestMeta:
    event = app.current_event
    ctx = event.request_context
    headers = event.headers or {}
    country = headers.get("cloudfront-viewer-country") or headers.get("x-country")
    return RequestMeta(
        ip=(ctx.http.source_ip or "").split("/")[0] or None,
        user_agent=ctx.http.user_agent,
        request_id=ctx.request_id,
        country=country.upper() if country else None,
    )
