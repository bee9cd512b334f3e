"""Where an outbound HTTP request really goes, and whether it may go there.

Decisions about a URL are made on what the HTTP client will connect to, not on what
`urllib.parse` thinks: the two disagree on hostile URLs (`http://localhost:2\\@127.0.0.1:1/`
connects to localhost:2 while `urlparse` reports 127.0.0.1:1), so every check here parses the URL
the way requests prepares it and urllib3 opens the connection.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests
from urllib3.util import parse_url

DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], Sequence[str]]


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    has_credentials: bool = False

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def same_as(self, other: Origin) -> bool:
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)


class UnsafeUrl(ValueError):
    """A URL we will not send a request (or a credential) to; the message says why."""


def connect_origin(url: str) -> Origin:
    """The scheme, host and port requests/urllib3 will connect to for `url`. Raises UnsafeUrl for
    a URL the client cannot prepare or that names no http(s) host."""
    try:
        prepared = requests.Request("GET", url).prepare().url or ""
        parts = parse_url(prepared)
    except Exception as exc:  # requests and urllib3 raise several types for unusable URLs
        raise UnsafeUrl(f"not a usable URL ({type(exc).__name__})") from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parts.host:
        raise UnsafeUrl(f"not an http(s) URL with a host (scheme {scheme or 'none'})")
    host = parts.host.lower().strip("[]")
    return Origin(scheme, host, parts.port or DEFAULT_PORTS[scheme], has_credentials=bool(parts.auth))


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (what the connection may end up using)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses
    (an IPv4-mapped IPv6 address is judged as the IPv4 address it carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_HOST_ENTRY = re.compile(
    r"^(?P<host>(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])"
    r"(:(?P<port>[0-9]{1,5}))?$"
)


@dataclass(frozen=True)
class HostRule:
    """One `allowed_hosts` entry: `host`, `*.domain` (subdomains only) or either with `:port`;
    without a port only 443. An entry that is an IP address allows that address even when it is
    loopback or private (it says so explicitly); a name must resolve to public addresses only."""

    host: str
    port: int
    wildcard: bool

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        text = entry.strip().lower()
        match = _HOST_ENTRY.match(text)
        if not match:
            raise ValueError(f"allowed_hosts entry {entry!r}: expected host, *.domain, or either with :port")
        host = match.group("host").strip("[]")
        port = int(match.group("port") or 443)
        if not 0 < port < 65536:
            raise ValueError(f"allowed_hosts entry {entry!r}: port out of range")
        if host.startswith("*.") and is_ip_literal(host[2:]):
            raise ValueError(f"allowed_hosts entry {entry!r}: a wildcard needs a domain name")
        if ":" in host and not is_ip_literal(host):
            raise ValueError(f"allowed_hosts entry {entry!r}: not an IPv6 address")
        return cls(host[2:] if host.startswith("*.") else host, port, host.startswith("*."))

    def matches(self, origin: Origin) -> bool:
        if origin.port != self.port:
            return False
        if self.wildcard:
            return not is_ip_literal(origin.host) and origin.host.endswith("." + self.host)
        if is_ip_literal(self.host) and is_ip_literal(origin.host):
            return ipaddress.ip_address(self.host) == ipaddress.ip_address(origin.host)
        return origin.host == self.host

    @property
    def explicit_address(self) -> bool:
        return is_ip_literal(self.host)


def check_allowed(url: str, rules: Sequence[HostRule], resolve: Resolver = system_resolver) -> Origin:
    """The origin of `url` if a request with credentials may go there: https only, no user info in
    the URL, host and port matching a rule, and every address the name resolves to public unless
    the rule names the address itself. Raises UnsafeUrl saying why not."""
    origin = connect_origin(url)
    if origin.scheme != "https":
        raise UnsafeUrl("not https (credentials are never sent over plain HTTP)")
    if origin.has_credentials:
        raise UnsafeUrl("user info in the URL")
    rule = next((r for r in rules if r.matches(origin)), None)
    if rule is None:
        raise UnsafeUrl(f"{origin.host}:{origin.port} is not in allowed_hosts")
    if not rule.explicit_address:
        blocked = [a for a in resolve(origin.host, origin.port) if not is_public_address(a)]
        if blocked:
            raise UnsafeUrl(
                f"{origin.host} resolves to a non-public address ({blocked[0]}); list the address itself "
                "in allowed_hosts to allow it"
            )
    return origin
