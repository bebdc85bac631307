"""One HTTP attempt: checked by the SSRF guard, pinned to the checked address, over a pooled session.

No redirect is followed (a 3xx is a failure), proxies from the environment are ignored, the
timeout is the endpoint's (at most 30 s), and only the first 2 KB of the answer is kept: a
bigger answer is read up to 64 KB (so the connection goes back to the pool) or the connection
is dropped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keel.core import netguard

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


def _read_body(resp: Any) -> str:
    raw = resp.raw
    kept = raw.read(BODY_KEPT, decode_content=True) or b""
    drained = len(kept)
    while drained < DRAIN_LIMIT:
        chunk = raw.read(8192, decode_content=True)
        if not chunk:
            raw.release_conn()  # read to the end: the connection goes back to the pool
            break
        drained += len(chunk)
    else:
        resp.close()  # too much to drain: drop the connection
    return bytes(kept).decode("utf-8", "replace")


def post(url: str, body: str, headers: dict[str, str], timeout: float) -> Outcome:  # noqa: PLR0911
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
    try:
        resp = session().send(
            prepared,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            allow_redirects=False,
            stream=True,
        )
    except requests.exceptions.Timeout:
        return Outcome(None, _ms(start), "timeout", "", timed_out=True)
    except requests.exceptions.SSLError:
        return Outcome(None, _ms(start), "TLS error", "")
    except requests.exceptions.ConnectionError:
        return Outcome(None, _ms(start), "connection error", "")
    except netguard.Refused as exc:
        return Outcome(None, _ms(start), f"refused: {exc}", "")
    except requests.exceptions.RequestException as exc:
        return Outcome(None, _ms(start), f"request error: {type(exc).__name__}", "")
    latency = _ms(start)
    try:
        text = _read_body(resp)
    except requests.exceptions.RequestException:
        text = ""
    except Exception:
        text = ""
    status = resp.status_code
    error = None
    if 300 <= status < 400:
        error = f"redirect not followed (HTTP {status})"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return Outcome(status, latency, error, text, retry_after=resp.headers.get("retry-after"))


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
