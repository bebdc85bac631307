"""HTTP glue shared by every API function: the resolver factory, error shapes, authentication."""

from keel.http.app import create_app, entrypoint, principal
from keel.http.auth import public, requires
from keel.http.request import request_meta

__all__ = ["create_app", "entrypoint", "principal", "public", "request_meta", "requires"]
