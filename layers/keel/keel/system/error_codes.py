"""The error catalogue as the API lists it."""

from __future__ import annotations

from keel.core.errors import ErrorCode
from keel.core.model import Model


class ErrorCodeOut(Model):
    code: str
    http_status: int
    title: str
    action: str


def catalogue() -> list[ErrorCodeOut]:
    return [
        ErrorCodeOut(code=c.name, http_status=c.value.status, title=c.value.title, action=c.value.action)
        for c in ErrorCode
    ]
