"""A total deadline for one HTTP attempt: connect, TLS, send and the whole answer.

A socket timeout bounds each read, not their sum: a receiver that answers a byte every second
never trips it. So each attempt starts a `Deadline` in its thread; the connections of the pooled
session (`pool_classes()`, installed by `sender.session()`) attach their sockets to it as they are
opened or reused; one watchdog thread per process shuts those sockets down when the deadline
passes, which ends whatever read or write was blocked on them, and the attempt reads
`Deadline.finish()` to know it was cut. A connection handed back to the pool is detached first,
so a late deadline never cuts a connection another attempt has taken.

A new connection is watched through a duplicate of its socket (`dup()`: the same connection), so
the TLS handshake, which replaces the socket object, is covered too; duplicates are closed at the
end of the attempt.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

_cond = threading.Condition()
_due: list[tuple[float, int, Deadline]] = []  # a heap of running attempts' deadlines
_order = itertools.count()
_local = threading.local()
_watcher: threading.Thread | None = None


class Deadline:
    __slots__ = ("at", "done", "fired", "watched")

    def __init__(self, at: float) -> None:
        self.at = at
        self.fired = False
        self.done = False
        self.watched: list[tuple[Any, socket.socket, bool]] = []  # (connection, socket, owned dup)

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        """This thread's attempt must end within `seconds`."""
        global _watcher  # noqa: PLW0603 - one watchdog per process
        deadline = cls(time.monotonic() + seconds)
        with _cond:
            if _watcher is None or not _watcher.is_alive():
                _watcher = threading.Thread(target=_watch, name="webhook-deadline", daemon=True)
                _watcher.start()
            heapq.heappush(_due, (deadline.at, next(_order), deadline))
            if _due[0][2] is deadline:
                _cond.notify()
        _local.deadline = deadline
        return deadline

    def finish(self) -> bool:
        """Ends the attempt; True if the deadline cut it."""
        _local.deadline = None
        with _cond:
            self.done = True
            owned = [s for _, s, own in self.watched if own]
            self.watched = []
            fired = self.fired
        for sock in owned:
            sock.close()
        return fired


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain call, also for a TLS socket


def _watch() -> None:
    with _cond:
        while True:
            now = time.monotonic()
            while _due and (_due[0][2].done or _due[0][0] <= now):
                _, _, deadline = heapq.heappop(_due)
                if not deadline.done:
                    deadline.fired = True
                    for _, sock, _ in deadline.watched:
                        _cut(sock)
            _cond.wait(_due[0][0] - now if _due else None)


def _attach(conn: Any, sock: socket.socket | None, *, owned: bool = False) -> None:
    deadline: Deadline | None = getattr(_local, "deadline", None)
    if sock is None:
        return
    if deadline is None:
        if owned:
            sock.close()
        return
    with _cond:
        if deadline.done:
            if owned:
                sock.close()
            return
        deadline.watched.append((conn, sock, owned))
        if deadline.fired:
            _cut(sock)


def _detach(conn: Any) -> None:
    """A connection going back to the pool is no longer this attempt's to cut."""
    deadline: Deadline | None = getattr(_local, "deadline", None)
    if deadline is None:
        return
    with _cond:
        mine = [w for w in deadline.watched if w[0] is conn]
        deadline.watched = [w for w in deadline.watched if w[0] is not conn]
    for _, sock, owned in mine:
        if owned:
            sock.close()


def pool_classes() -> dict[str, type[Any]]:
    """urllib3 pools whose connections attach their sockets to the running attempt's deadline."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watched(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            _attach(self, sock.dup(), owned=True)
            return sock

        def request(self, *args: Any, **kwargs: Any) -> None:
            _attach(self, self.sock)  # a reused connection: its socket is already open
            super().request(*args, **kwargs)

    class WatchedHTTP(Watched):
        pass

    class WatchedHTTPS(Watched, HTTPSConnection):
        pass

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTP

        def _put_conn(self, conn: Any) -> None:
            _detach(conn)
            super()._put_conn(conn)

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPS

        def _put_conn(self, conn: Any) -> None:
            _detach(conn)
            super()._put_conn(conn)

    return {"http": HTTPPool, "https": HTTPSPool}
