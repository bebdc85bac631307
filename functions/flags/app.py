"""Feature flag routes: management (platform staff), evaluation for the caller, and OFREP."""

from __future__ import annotations

import keel.core.coldstart  # noqa: F401  (first: no cyclic GC while the function initialises)

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from keel.core.errors import ErrorCode
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.flags import service
from keel.flags.models import (
    ArchiveIn,
    CacheRefreshed,
    Category,
    Evaluations,
    Flag,
    FlagCreate,
    FlagStatus,
    FlagUpdate,
    HistoryEntry,
    MetricsOut,
    OfrepBulk,
    OfrepFlag,
    OfrepRequest,
    PreviewIn,
    PreviewOut,
    ScheduledChange,
    ScheduleIn,
    TargetingIn,
    ToggleIn,
)
from keel.http import create_app, entrypoint, principal, requires
from keel.http.params import Cursor, Limit

app = create_app()
TAGS = ["flags"]
JSON = "application/json"
CACHE = "private, no-cache"
READ = [requires(Permission.FLAGS_READ)]
MANAGE = [requires(Permission.FLAGS_MANAGE)]
EVALUATE = [requires(Permission.PROFILE)]  # everyone signed in, for their own context
Time = Annotated[str | None, Query(max_length=40, pattern=r"^\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)?$")]


@app.get("/flags", operation_id="list_flags", middlewares=READ, tags=TAGS)
def list_flags(
    status: FlagStatus | None = None,
    category: Category | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[Flag]:
    return service.list_flags(principal(app), status, category, limit, cursor)


@app.post("/flags", operation_id="create_flag", middlewares=MANAGE, tags=TAGS)
def create_flag(body: FlagCreate) -> Response[Flag]:
    return Response(status_code=201, body=service.create_flag(principal(app), body), content_type=JSON)


@app.get("/flags/<key>", operation_id="get_flag", middlewares=READ, tags=TAGS)
def get_flag(key: str) -> Flag:
    return service.get_flag(principal(app), key)


@app.patch("/flags/<key>", operation_id="update_flag", middlewares=MANAGE, tags=TAGS)
def update_flag(key: str, body: FlagUpdate) -> Flag:
    return service.update_flag(principal(app), key, body)


@app.post("/flags/<key>/archive", operation_id="archive_flag", middlewares=MANAGE, tags=TAGS)
def archive_flag(key: str, body: ArchiveIn) -> Flag:
    return service.archive_flag(principal(app), key, body)


@app.post("/flags/<key>/toggle", operation_id="toggle_flag", middlewares=MANAGE, tags=TAGS)
def toggle_flag(key: str, body: ToggleIn) -> Flag:
    return service.toggle_flag(principal(app), key, body)


@app.put("/flags/<key>/targeting", operation_id="update_flag_targeting", middlewares=MANAGE, tags=TAGS)
def update_flag_targeting(key: str, body: TargetingIn) -> Flag:
    return service.update_targeting(principal(app), key, body)


@app.post(
    "/flags/<key>/targeting/preview", operation_id="preview_flag_targeting", middlewares=READ, tags=TAGS
)
def preview_flag_targeting(key: str, body: PreviewIn) -> PreviewOut:
    return service.preview(principal(app), key, body)


@app.get("/flags/<key>/history", operation_id="list_flag_history", middlewares=READ, tags=TAGS)
def list_flag_history(key: str, limit: Limit = 50, cursor: Cursor = None) -> Page[HistoryEntry]:
    return service.list_history(principal(app), key, limit, cursor)


@app.get("/flags/<key>/metrics", operation_id="get_flag_metrics", middlewares=READ, tags=TAGS)
def get_flag_metrics(key: str, start: Time = None, end: Time = None) -> MetricsOut:
    return service.metrics(principal(app), key, start, end)


@app.post("/flags/<key>/schedules", operation_id="schedule_flag_change", middlewares=MANAGE, tags=TAGS)
def schedule_flag_change(key: str, body: ScheduleIn) -> Response[ScheduledChange]:
    return Response(
        status_code=201, body=service.schedule_change(principal(app), key, body), content_type=JSON
    )


@app.get("/flags/<key>/schedules", operation_id="list_scheduled_flag_changes", middlewares=READ, tags=TAGS)
def list_scheduled_flag_changes(key: str) -> Page[ScheduledChange]:
    return service.list_schedules(principal(app), key)


@app.delete(
    "/flags/<key>/schedules/<change_id>",
    operation_id="cancel_scheduled_flag_change",
    middlewares=MANAGE,
    tags=TAGS,
)
def cancel_scheduled_flag_change(key: str, change_id: str) -> ScheduledChange:
    return service.cancel_schedule(principal(app), key, change_id)


@app.post("/flag-cache/refresh", operation_id="refresh_flag_cache", middlewares=MANAGE, tags=TAGS)
def refresh_flag_cache() -> CacheRefreshed:
    return service.refresh_cache(principal(app))


NOT_MODIFIED: dict[int, Any] = {
    304: {"description": "Not Modified: the flags are those of the ETag sent as If-None-Match"}
}


class NotModified(Exception):
    def __init__(self, etag: str) -> None:
        self.etag = etag


@app.exception_handler(NotModified)
def _not_modified(exc: NotModified) -> Response[Any]:
    """An empty 304 (raised past the response model, which a 304 has none of)."""
    return Response(status_code=304, body="", headers={"ETag": exc.etag, "Cache-Control": CACHE})


class OfrepNotFound(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


@app.exception_handler(OfrepNotFound)
def _ofrep_not_found(exc: OfrepNotFound) -> Response[Any]:
    """OFREP's 404 body (`errorCode: FLAG_NOT_FOUND`), which also carries Keel's error shape."""
    error = {"code": ErrorCode.SAAS_004.name, "message": "Feature flag not found"}
    error["request_id"] = app.current_event.request_context.request_id
    body = {"key": exc.key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": error["message"], "error": error}
    return Response(status_code=404, body=json.dumps(body), content_type=JSON)


def _cached(ok: Response[Any], etag: str) -> Response[Any]:
    """The answer with its ETag, or an empty 304 when the client holds this ETag already."""
    if service.not_modified((app.current_event.headers or {}).get("if-none-match"), etag):
        raise NotModified(etag)
    ok.headers.update({"ETag": etag, "Cache-Control": CACHE})
    return ok


@app.get(
    "/flag-evaluations",
    operation_id="evaluate_flags",
    middlewares=EVALUATE,
    tags=TAGS,
    responses=NOT_MODIFIED,
)
def evaluate_flags() -> Response[Evaluations]:
    results, etag = service.evaluate_all(principal(app))
    body = Evaluations(flags=[service.as_evaluation(r) for r in results], etag=etag)
    return _cached(Response(status_code=200, body=body, content_type="application/json"), etag)


@app.post(
    "/ofrep/v1/evaluate/flags",
    operation_id="ofrep_evaluate_flags",
    middlewares=EVALUATE,
    tags=["ofrep"],
    responses=NOT_MODIFIED,
)
def ofrep_evaluate_flags(body: OfrepRequest | None = None) -> Response[OfrepBulk]:  # noqa: ARG001
    results, etag = service.evaluate_all(principal(app))
    out = OfrepBulk(flags=[service.as_ofrep(r) for r in results])
    return _cached(Response(status_code=200, body=out, content_type="application/json"), etag)


@app.post(
    "/ofrep/v1/evaluate/flags/<key>", operation_id="ofrep_evaluate_flag", middlewares=EVALUATE, tags=["ofrep"]
)
def ofrep_evaluate_flag(key: str, body: OfrepRequest | None = None) -> Response[OfrepFlag]:  # noqa: ARG001
    result = service.evaluate_one(principal(app), key)
    if result is not None:
        return Response(status_code=200, body=service.as_ofrep(result), content_type=JSON)
    raise OfrepNotFound(key)


lambda_handler = entrypoint(app)
