"""One HTTP attempt: checked by the SSRF guard, pinned to the checked address, over a pooled session.

No redirect is followed (a 3xx is a failure), proxies from the environment are ignored, and only
the first 2 KB of the answer is kept: a bigger answer is read up to 64 KB (so the connection goes
back to the pool) or the connection is dropped. The endpoint's timeout (at most 30 s) is a total
deadline for the attempt (`deadline.py`: connect, send and the whole answer, however slowly it
drips); an attempt cut by it is a timeout, retried like any other.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keel.core import netguard
from keel.webhooks.deadline import Deadline, pool_classes

if TYPE_CHECKING:
    import requests

BODY_KEPT = 2048
DRAIN_LIMIT = 64 * 1024
CONNECT_TIMEOUT = 5.0
USER_AGENT = "Keel-Webhooks/1.0"

_session: requests.Session | None = None
_lock = threading.Lock()


def session() -> requests.Session:
    global _session  # noqa: PLW0603 - one pooled session per process
    with _lock:
        if _session is None:
            _session = netguard.pinned_session(pool_size=64)
            for adapter in _session.adapters.values():
                adapter.poolmanager.pool_classes_by_scheme = pool_classes()  # type: ignore[attr-defined]
        return _session


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: float
    error: str | None
    body: str
    retry_after: str | None = None
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _read_body(resp: Any) -> tuple[str, bool]:
    """The kept start of the answer, and whether it was read to its end (up to `DRAIN_LIMIT`)."""
    raw = resp.raw
    kept = raw.read(BODY_KEPT, decode_content=True) or b""
    drained = len(kept)
    while drained < DRAIN_LIMIT:
        chunk = raw.read(8192, decode_content=True)
        if not chunk:
            return bytes(kept).decode("utf-8", "replace"), True
        drained += len(chunk)
    return bytes(kept).decode("utf-8", "replace"), False


def post(url: str, body: str, headers: dict[str, str], timeout: float) -> Outcome:
    import requests

    try:
        target = netguard.check(url)
    except netguard.Refused as exc:
        return Outcome(None, 0.0, f"refused: {exc}", "")
    prepared = session().prepare_request(
        requests.Request(
            "POST",
            url,
            data=body.encode(),
            headers={"content-type": "application/json", "user-agent": USER_AGENT, **headers},
        )
    )
    netguard.pin(prepared, target)
    start = time.perf_counter()
    deadline = Deadline.start(timeout)
    try:
        resp = _send(prepared, timeout)
        latency = _ms(start)
        text, complete = ("", False) if isinstance(resp, str) else _read_answer(resp)
    finally:
        cut = deadline.finish()
    if cut or (isinstance(resp, str) and resp == "timeout"):
        if not isinstance(resp, str):
            resp.close()
        return Outcome(None, _ms(start), "timeout", "", timed_out=True)
    if isinstance(resp, str):
        return Outcome(None, latency, resp, "")
    if complete:
        resp.raw.release_conn()  # read to the end: the connection goes back to the pool
    else:
        resp.close()  # too much to drain, or broken: drop the connection
    status = resp.status_code
    error = None
    if 300 <= status < 400:
        error = f"redirect not followed (HTTP {status})"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return Outcome(status, latency, error, text, retry_after=resp.headers.get("retry-after"))


def _send(prepared: requests.PreparedRequest, timeout: float) -> requests.Response | str:
    """The answer (its body not read yet), or why there is none."""
    import requests

    try:
        return session().send(
            prepared,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            allow_redirects=False,
            stream=True,
        )
    except requests.exceptions.Timeout:
        return "timeout"
    except requests.exceptions.SSLError:
        return "TLS error"
    except requests.exceptions.ConnectionError:
        return "connection error"
    except netguard.Refused as exc:
        return f"refused: {exc}"
    except requests.exceptions.RequestException as exc:
        return f"request error: {type(exc).__name__}"


def _read_answer(resp: requests.Response) -> tuple[str, bool]:
    try:
        return _read_body(resp)
    except Exception:  # a broken answer: its status still counts
        return "", False


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
