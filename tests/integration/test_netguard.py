"""The SSRF guard: what it refuses, and that a send connects to the address it checked."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from keel.core import netguard
from keel.webhooks import sender
from tests.support.receiver import Receiver


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """name -> the answers it gives, one per lookup (the last one repeats)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def resolve(host: str, port: Any, *args: Any, **kw: Any) -> Any:
        if host in answers:
            ip = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (ip, port or 443))]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return answers


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        ("http://hooks.example.com/x", "93.184.215.14"),
        ("https://hooks.example.com/x", "10.0.0.7"),
        ("https://hooks.example.com/x", "192.168.1.1"),
        ("https://hooks.example.com/x", "127.0.0.1"),
        ("https://hooks.example.com/x", "169.254.169.254"),
        ("https://hooks.example.com/x", "fd00:ec2::254"),
        ("https://hooks.example.com/x", "100.64.0.1"),
        ("https://hooks.example.com/x", "224.0.0.1"),
        ("https://hooks.example.com/x", "0.0.0.0"),  # noqa: S104
        ("https://hooks.example.com/x", "::ffff:10.0.0.1"),
        ("https://user:pw@hooks.example.com/x", "93.184.215.14"),
        ("ftp://hooks.example.com/x", "93.184.215.14"),
        ("https://localhost/x", "127.0.0.1"),
    ],
)
def test_refused(dns: dict[str, list[str]], url: str, answer: str) -> None:
    dns["hooks.example.com"] = [answer]
    dns["localhost"] = [answer]
    with pytest.raises(netguard.Refused):
        netguard.check(url, allow_local=False)


def test_public_https_is_pinned_to_its_address(dns: dict[str, list[str]]) -> None:
    dns["hooks.example.com"] = ["93.184.215.14"]
    target = netguard.check("https://hooks.example.com:8443/x", allow_local=False)
    assert (target.ip, target.host_header) == ("93.184.215.14", "hooks.example.com:8443")


def test_local_development_allows_loopback_over_http_only(dns: dict[str, list[str]]) -> None:
    dns["dev.example.com"] = ["10.0.0.9"]
    assert netguard.check("http://127.0.0.1:9000/hook", allow_local=True).ip == "127.0.0.1"
    assert netguard.check("http://localhost:9000/hook", allow_local=True).ip == "127.0.0.1"
    with pytest.raises(netguard.Refused):
        netguard.check("http://dev.example.com/hook", allow_local=True)  # private, not loopback
    with pytest.raises(netguard.Refused):
        netguard.check("https://169.254.169.254/", allow_local=True)


def test_a_send_resolves_once_and_connects_to_the_checked_address(
    dns: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers loopback (allowed locally) then a metadata address; the
    connection goes to the address that was checked, with the name in the Host header."""
    monkeypatch.setenv("ALLOW_LOCAL_TARGETS", "true")
    dns["rebind.example.com"] = ["127.0.0.1", "169.254.169.254"]
    receiver = Receiver().start()
    try:
        port = receiver.server.server_address[1]
        outcome = sender.post(f"http://rebind.example.com:{port}/hook", "{}", {}, 5)
        assert outcome.ok, outcome
        assert receiver.got[0].headers["host"] == f"rebind.example.com:{port}"
        assert dns["rebind.example.com"] == ["169.254.169.254"]  # looked up once
        again = sender.post(f"http://rebind.example.com:{port}/hook", "{}", {}, 5)
        assert (again.error or "").startswith("refused")  # the next send checks again
        assert len(receiver.got) == 1
    finally:
        receiver.stop()


def test_redirects_are_not_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_LOCAL_TARGETS", "true")
    receiver = Receiver(status=302, reply_headers={"Location": "http://169.254.169.254/"}).start()
    try:
        outcome = sender.post(receiver.url, "{}", {}, 5)
        assert (outcome.ok, outcome.error) == (False, "redirect not followed (HTTP 302)")
        assert len(receiver.got) == 1
    finally:
        receiver.stop()
