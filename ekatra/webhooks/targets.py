"""Safe webhook targets: which URLs may be registered and requested (no SSRF).

In production a URL must be https and its host must resolve only to public addresses: no
loopback, private, shared, link-local (the cloud metadata service 169.254.169.254 among them),
multicast, reserved or unspecified ones, also not hidden in IPv4-mapped IPv6. Development allows
http and loopback, so that the demo and the tests can use a local receiver. The check runs at
registration and again at every send, on the addresses the request then connects to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
MAX_URL_CHARS = 2048


class UnsafeTarget(ValueError):
    """The URL may not be requested; the message says why."""


@dataclass(frozen=True)
class TargetPolicy:
    allow_http: bool = False
    allow_loopback: bool = False


PRODUCTION = TargetPolicy()
DEVELOPMENT = TargetPolicy(allow_http=True, allow_loopback=True)


def policy_for(config) -> TargetPolicy:
    return PRODUCTION if config.get("EKATRA_ENV") == "production" else DEVELOPMENT


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as problem:
        raise UnsafeTarget(f"The host {host!r} does not resolve ({problem}).") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def parse(url: str, policy: TargetPolicy) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL, or UnsafeTarget."""
    if len(url) > MAX_URL_CHARS:
        raise UnsafeTarget(f"The URL is longer than {MAX_URL_CHARS} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("The URL is malformed.") from None
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeTarget("The URL must be https://." if not policy.allow_http
                           else "The URL must be http:// or https://.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL must not carry a user name or password.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def refused_because(address: str, policy: TargetPolicy) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address (such as the cloud metadata service)"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "a reserved or non-public address"
    return None


def checked_addresses(url: str, policy: TargetPolicy, resolve: Resolver = system_resolver) -> list[str]:
    """The addresses the URL's host resolves to, all of them allowed; else UnsafeTarget."""
    _scheme, host, port = parse(url, policy)
    addresses = resolve(host, port)
    if not addresses:
        raise UnsafeTarget(f"The host {host!r} does not resolve.")
    for address in addresses:
        reason = refused_because(address, policy)
        if reason:
            raise UnsafeTarget(f"The host {host!r} resolves to {address}, {reason}.")
    return addresses
