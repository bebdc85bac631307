"""HTTP glue shared by every API function: the resolver factory, error shapes, authentication."""

from keel.http.app import create_app, entrypoint, principal, request_meta
from keel.http.auth import public, requires

__all__ = ["create_app", "entrypoint", "principal", "public", "request_meta", "requires"]
