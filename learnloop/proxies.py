"""Believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from the proxies an operator names.

Behind a TLS-terminating proxy the request arrives over http from the proxy's address; the
proxy says in headers who the client was and that it spoke https. Anyone can send those headers,
so they are honoured only when the peer is in ``LEARNLOOP_TRUSTED_PROXIES`` (addresses or
networks). The client address then feeds rate limits; the scheme makes session cookies Secure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.5, 192.168.0.0/24"`` as networks; ValueError names a bad entry."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
    return tuple(networks)


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client: from the right of ``X-Forwarded-For``, the first address not a proxy."""
    client = peer
    for address in reversed([a.strip() for a in forwarded_for.split(",") if a.strip()]):
        if not _trusted(client, networks):
            break
        client = address
    return client


class TrustedProxies:
    """WSGI middleware: client address and scheme from the headers of trusted proxies only."""

    def __init__(self, app, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        if self.networks and _trusted(peer, self.networks):
            environ["REMOTE_ADDR"] = forwarded_client(
                peer, environ.get("HTTP_X_FORWARDED_FOR", ""), self.networks
            )
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)
