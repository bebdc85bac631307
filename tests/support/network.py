"""A guard that refuses every connection leaving this machine.

`responses` only sees the `requests` library; boto3 (urllib3), the Twilio and Stripe SDKs and
plain sockets would go around it. This guard sits under all of them, at `socket.connect`: a
connection to a loopback address (moto server, the local stack) goes through, anything else is
recorded and refused with `OutsideConnection`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class OutsideConnection(ConnectionRefusedError):
    """A test tried to reach a host that is not this machine."""


attempts: list[str] = []


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like stay on this machine
        return True
    host = str(address[0]).split("%", 1)[0]
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: resolving it would already use the network
        return False


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
        attempts.append(f"{address[0]}:{address[1]}")
        raise OutsideConnection(f"tests must not use the network: connection to {address!r} refused")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _connect_ex(self, address)


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Within: outside connections are refused; yields the list of those attempted."""
    attempts.clear()
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    try:
        yield attempts
    finally:
        socket.socket.connect = _connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
