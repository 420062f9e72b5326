"""Which platform URLs the tool may call (key sets, tokens, AGS, NRPS, dynamic registration).

Pure. Those URLs come from registrations, launches and a browser's query string, so they are a
server-side request forgery risk: only https, no credentials in the URL, no IP literals of
private, loopback or link-local networks. ``allow_http_loopback`` (a test and demo setting)
additionally allows ``http://127.0.0.1``, ``http://localhost`` and ``http://[::1]``.
Host names are not resolved here; a platform host name that resolves to a private address is
the operator's network decision.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from lti.errors import UnsafeUrl

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_outbound_url(url: str, allow_http_loopback: bool = False, what: str = "URL") -> str:
    """Return ``url`` if the tool may call it; UnsafeUrl naming the rule otherwise."""
    if not isinstance(url, str) or not url:
        raise UnsafeUrl(f"the platform {what} is missing")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError:
        raise UnsafeUrl(f"the platform {what} {url!r} is not a valid URL") from None
    if not host:
        raise UnsafeUrl(f"the platform {what} {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(f"the platform {what} must not carry credentials")
    loopback_allowed = allow_http_loopback and host in LOOPBACK_HOSTS
    if parts.scheme == "http" and loopback_allowed:
        return url
    if parts.scheme != "https":
        raise UnsafeUrl(f"the platform {what} {url!r} must use https")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if loopback_allowed:
        return url
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
        or address.is_multicast
    ):
        raise UnsafeUrl(f"the platform {what} {url!r} points into a private network")
    return url
