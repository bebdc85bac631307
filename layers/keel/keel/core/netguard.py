"""Outbound HTTP to addresses a customer chooses (webhooks, callbacks): the SSRF guard.

    target = netguard.check("https://hooks.example.com/in")   # resolves once, refuses or pins
    prepared = session.prepare_request(...); netguard.pin(prepared, target)
    session.send(prepared)                                      # through `pinned_session()`

`check` resolves the host and refuses a URL that is not https, carries credentials, or whose name
resolves to any private, loopback, link-local (169.254.169.254 is there), multicast, reserved,
shared (CGNAT) or unspecified address, or a cloud metadata address (fd00:ec2::254). The request is
then pinned: `PinnedAdapter` connects to the IP that was checked, with the name as TLS SNI, as the
certificate's expected host and as the Host header, so the name cannot resolve elsewhere between
the check and the connection (DNS rebinding). Call it at creation and at every send.

Local development (`ALLOW_LOCAL_TARGETS=true`, set by `make dev` only): plain http and loopback
addresses are allowed, so a receiver on the developer's machine works; other private ranges stay
refused.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import requests

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
LOCAL_NAMES = {"localhost", "localhost.localdomain"}


class Refused(ValueError):
    """A URL the guard will not connect to; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # the name as written (lower case)
    port: int
    ip: str  # the checked address every connection goes to

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def local_allowed() -> bool:
    return os.environ.get("ALLOW_LOCAL_TARGETS", "").strip().lower() in {"1", "true", "yes"}


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _blocked(ip.ipv4_mapped)
    return (
        ip in METADATA
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address of a name (the system resolver); an IP literal is itself."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def check(url: str, *, allow_local: bool | None = None) -> Target:
    """The URL's pinned target, or `Refused` (scheme, credentials, or any address not public)."""
    local = local_allowed() if allow_local is None else allow_local
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("not a valid URL") from exc
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("credentials in the URL are not allowed")
    if scheme not in {"https", "http"}:
        raise Refused("only https URLs are allowed")
    port = port or (443 if scheme == "https" else 80)
    loopback_name = host in LOCAL_NAMES or host.endswith(".localhost")
    addresses = ["127.0.0.1"] if local and loopback_name else resolve(host, port)
    if not addresses:
        raise Refused(f"{host} does not resolve")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if local and ip.is_loopback:
            continue
        if _blocked(ip):
            kind = "a cloud metadata" if ip in METADATA else "a private or reserved"
            raise Refused(f"{host} resolves to {kind} address")
    if scheme == "http" and not (local and all(ipaddress.ip_address(a).is_loopback for a in addresses)):
        raise Refused("only https URLs are allowed (plain http only to this machine in local development)")
    return Target(url=url, scheme=scheme, host=host, port=port, ip=addresses[0])


def pin(prepared: requests.PreparedRequest, target: Target) -> None:
    """Ties a prepared request to its checked target (the adapter refuses an unpinned request)."""
    prepared.headers["Host"] = target.host_header
    prepared.keel_target = target  # type: ignore[attr-defined]


def _adapter_class() -> type[Any]:
    from requests.adapters import HTTPAdapter

    class PinnedAdapter(HTTPAdapter):
        """Connects to the checked IP; TLS SNI and certificate check use the name."""

        def get_connection_with_tls_context(
            self,
            request: Any,
            verify: Any,
            proxies: Any = None,  # noqa: ARG002 - never used: pinned requests go straight to the IP
            cert: Any = None,
        ) -> Any:
            target: Target | None = getattr(request, "keel_target", None)
            if target is None:
                raise Refused("request not checked by the SSRF guard")
            host_params, found = self.build_connection_pool_key_attributes(request, verify, cert)
            host_params["host"] = target.ip
            pool_kwargs: dict[str, Any] = dict(found)
            if target.scheme == "https":
                pool_kwargs["server_hostname"] = target.host
                pool_kwargs["assert_hostname"] = target.host
            return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    return PinnedAdapter


def pinned_session(pool_size: int = 64) -> requests.Session:
    """A pooled session that only sends pinned requests, ignores proxy variables, keeps no cookies."""
    import requests
    from requests.cookies import RequestsCookieJar

    class _NoCookies(RequestsCookieJar):
        def set_cookie(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
            return None

    session = requests.Session()
    session.trust_env = False
    session.cookies = _NoCookies()
    adapter = _adapter_class()(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
