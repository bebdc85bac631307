"""schemathesis auth for `make fuzz` (loaded through SCHEMATHESIS_HOOKS): a token that stays valid.

The fuzzer acts as a real admin and may end its own sessions (reset its own password or 2FA,
change its own role, terminate sessions...). Every two seconds the current token is checked with
one `GET /sessions`; when it no longer authenticates, a new session is written for the same user
straight into the local stack's table (moto), as a login would, so fuzzing goes on as that user.
A suspended or erased fuzzer stays refused: what it did is what the API allows.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from typing import Any

import schemathesis

from infra.apps import ensure_paths


def _authenticates(token: str) -> bool:
    request = urllib.request.Request(os.environ["KEEL_FUZZ_API"] + "/sessions")
    request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code != 401


def _mint(tenant_id: str, user_id: str) -> str | None:
    ensure_paths()
    from keel.core.principal import RequestMeta
    from keel.identity import sessions
    from keel.store.change import Tx
    from keel.users import repo
    from keel.users.models import UserStatus

    user = repo.for_tenant(tenant_id).get(user_id)
    if user is None or user.status is not UserStatus.ACTIVE:  # as login: only an active user
        return None
    tx = Tx()
    new = sessions.start(
        tx,
        tenant_id=tenant_id,
        user_id=user_id,
        role=user.role,
        meta=RequestMeta(ip="127.0.0.1", user_agent="keel-fuzz"),
    )
    tx.commit()
    return new.token


@schemathesis.auth(refresh_interval=2)
class KeelSession:
    def __init__(self) -> None:
        self.token = os.environ["KEEL_FUZZ_TOKEN"]

    def get(self, case: Any, context: Any) -> str:  # noqa: ARG002 (schemathesis signature)
        """Never fails: a check that cannot be made keeps the current token (the API answers 401,
        a declared status) rather than turning every later case into an authentication error."""
        try:
            if not _authenticates(self.token):
                fresh = _mint(os.environ["KEEL_FUZZ_TENANT"], os.environ["KEEL_FUZZ_USER"])
                if fresh:
                    self.token = fresh
        except Exception as exc:  # a slow or refused check is not a finding
            print(f"keel-fuzz: token check skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
        return self.token

    def set(self, case: Any, data: str, context: Any) -> None:  # noqa: ARG002
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
