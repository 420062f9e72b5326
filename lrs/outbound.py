"""The one guard of every outbound HTTP call: no way inside, and a total deadline.

Issue 13 found that "the outbound URL check is bypassed by host names that are numbers or
other spellings of an address (decimal, hex, octal, short forms, ``localhost``), so
registrations and dynamic-registration links can make the server connect to loopback,
private and link-local addresses. Outbound calls have a per-read timeout but no total
deadline: a slow key-set URL held a worker 80 s." The remedy it asks for: "resolve the host,
refuse if any address is loopback, private, link-local, multicast or reserved — both when the
URL is given ... and at connect time — and connect to the address that was checked (no second
resolution); a total deadline per call; the same guard for every outbound call".

Three layers, each usable alone:

* ``refusal(addresses, allowed_networks)``: pure; why a list of addresses may not be called,
  or None. ``numeric_address(host)`` reads every spelling of an IP literal the C library
  accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) without resolving.
* ``OutboundGuard``: the policy (networks an operator allows although they are not public,
  networks where plain http is allowed) and the resolver, injectable so that tests can answer
  like a rebinding DNS server. ``check_url`` is the check where a URL is given (a 400
  naming the field); ``connect`` opens the socket of a call.
* ``send``: one HTTP call through a ``requests`` adapter whose connections resolve the host
  once, check every address, and connect to a checked address while keeping the URL's host
  name for TLS (SNI, certificate verification) and the Host header; redirects are not
  followed, proxies are not used (a proxy would resolve the name itself), the body is read up
  to a size limit, and a total deadline shuts the socket down however slowly the peer
  dribbles its headers or body.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from lrs import metrics
from lrs.errors import FieldError, OutboundFailed, UnsafeUrl

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``resolver(host, port)``: every address of ``host``; raises OSError when it has none.
Resolver = Callable[[str, int], Sequence[Address | str]]

LOOPBACK_NETWORKS: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# ==== pure rules =================================================================================


_PART = re.compile(r"^(?:0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$")


def numeric_address(host: str) -> Address | None:
    """The address ``host`` spells, in any form ``inet_aton`` accepts, or None for a name.

    Besides the usual forms this reads one to four parts, each decimal, ``0x`` hex or
    ``0``-prefixed octal, the last part filling the remaining bytes: ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1, as the C library reads
    them when it is asked to connect.
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    values = [
        int(p, 16) if p.startswith("0x") else int(p, 8) if p.startswith("0") else int(p)
        for p in parts
    ]
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 256 ** (5 - len(parts)):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: Address) -> str | None:
    """Why ``address`` is not a public one (the most telling reason first), or None."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def refusal(addresses: Iterable[Address], allowed_networks: Sequence[Network] = ()) -> str | None:
    """Why Learnloop may not connect to these addresses, or None when it may.

    Refused when *any* address is loopback, unspecified, link-local, multicast, private,
    reserved or otherwise not global, including an IPv4 address inside an IPv6 one
    (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64) — unless the address (or the IPv4 address it
    carries) is inside one of ``allowed_networks``, which the operator configured. An empty
    list is refused too: there is nothing that could be checked.
    """
    addresses = list(addresses)
    if not addresses:
        return "the host has no address"
    for address in addresses:
        inner = _embedded_ipv4(address)
        candidates = [address] if inner is None else [inner, address]
        if any(a in network for a in candidates for network in allowed_networks):
            continue
        for candidate in candidates:
            kind = _kind(candidate)
            if kind and candidate is address:
                return f"{address} is {kind}"
            if kind:
                return f"{address} carries {candidate}, {kind}"
    return None


def outside(addresses: Iterable[Address], networks: Sequence[Network]) -> Address | None:
    """The first address not inside any of ``networks`` (IPv4 read through IPv6), or None."""
    for address in addresses:
        inner = _embedded_ipv4(address)
        candidates = [address] if inner is None else [address, inner]
        if not any(a in network for a in candidates for network in networks):
            return address
    return None


def parse_networks(text: str) -> tuple[Network, ...]:
    """Networks from ``"10.2.0.0/16, 192.168.7.5"`` (an address is a network of one).

    Raises ValueError naming the first entry that is not an address or network.
    """
    networks = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


# ==== the guard ==================================================================================


def system_resolver(host: str, port: int) -> list[Address]:
    """The addresses of ``host`` from the system's resolver (getaddrinfo), each once."""
    found: dict[Address, None] = {}
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        found[ipaddress.ip_address(sockaddr[0])] = None
    return list(found)


@dataclass(frozen=True)
class Target:
    """A URL taken apart: what a connection needs and what a message names."""

    url: str
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return self.url or f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class OutboundGuard:
    """Which addresses Learnloop may call, and how it finds them.

    ``allowed_networks``: networks the operator allows although they are not public (an LMS
    inside the company network); empty by default. ``http_networks``: where plain http is
    allowed (the local test platforms and demos, on loopback); everything else needs https.
    ``resolver``: injectable; the connection calls it once and connects to what it answered.
    """

    allowed_networks: tuple[Network, ...] = ()
    http_networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    def target(self, url: Any, name: str) -> Target:
        """``url`` taken apart, when its form is one Learnloop may call; UnsafeUrl otherwise.

        Only https (http where ``http_networks`` allow it), a host, no credentials, no
        malformed port, and no IP literal (in any spelling) that ``refusal`` refuses.
        Nothing is resolved here.
        """
        if not isinstance(url, str) or not url:
            raise _unsafe(name, "is missing")
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
            port = parts.port
        except ValueError:
            raise _unsafe(name, f"{url!r} is not a valid URL") from None
        if parts.scheme not in ("https", "http"):
            raise _unsafe(name, f"{url!r} must use https")
        if parts.scheme == "http" and not self.http_networks:
            raise _unsafe(name, f"{url!r} must use https")
        if not host:
            raise _unsafe(name, f"{url!r} has no host")
        if parts.username is not None or parts.password is not None:
            raise _unsafe(name, "must not carry credentials")
        target = Target(url, parts.scheme, host, port or (443 if parts.scheme == "https" else 80))
        literal = numeric_address(host)
        if literal is not None:
            self._decide(target, [literal], name)
        return target

    def check_url(self, url: Any, name: str) -> str:
        """Return ``url`` if Learnloop may call it; UnsafeUrl naming ``name`` otherwise.

        The check where a URL is given (a registration, a dynamic-registration link): its
        form (``target``), then the host resolved and every address checked. A host name
        that does not resolve now passes (the check at connect time refuses it if it ever
        points inside); over plain http it is refused, since http is only for
        ``http_networks``.
        """
        target = self.target(url, name)
        if numeric_address(target.host) is None:
            try:
                addresses = self.addresses(target)
            except OSError:
                if target.scheme == "http":
                    raise _unsafe(name, f"{url!r}: {target.host} does not resolve") from None
                return url
            self._decide(target, addresses, name)
        return url

    def addresses(self, target: Target) -> list[Address]:
        """The addresses of ``target``'s host: its literal, or what the resolver answers."""
        literal = numeric_address(target.host)
        if literal is not None:
            return [literal]
        return [ipaddress.ip_address(a) for a in self.resolver(target.host, target.port)]

    def _decide(self, target: Target, addresses: list[Address], name: str) -> None:
        reason = refusal(addresses, self.allowed_networks + self.http_networks)
        if reason:
            raise _unsafe(name, f"{str(target)!r} points inside: {reason}")
        if target.scheme == "http":
            plain = outside(addresses, self.http_networks)
            if plain is not None:
                raise _unsafe(name, f"{str(target)!r} must use https ({plain} is not local)")

    def connect(
        self,
        target: Target,
        name: str,
        timeout: float | None,
        options: Sequence[tuple[int, int, int]] = (),
    ) -> socket.socket:
        """A socket connected to a checked address of ``target``; the host is resolved once.

        Raises UnsafeUrl when any address is refused (nothing is connected then), OSError
        when the host does not resolve or no address accepts the connection.
        """
        addresses = self.addresses(target)
        self._decide(target, addresses, name)
        error: OSError = OSError(f"{target.host} has no address")
        for address in addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in options:
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect((str(address), target.port))
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error


def _unsafe(name: str, reason: str) -> UnsafeUrl:
    return UnsafeUrl(f"{name}: {reason}", [FieldError(name, reason)])


# ==== the total deadline =========================================================================


class Deadline:
    """A wall-clock limit on one call: when it passes, every socket of the call is shut down.

    A per-read timeout restarts with every byte, so a peer that dribbles holds a worker as
    long as it likes; shutting the socket down from a timer ends any blocked read at once.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self._ends - self._clock())

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def cancel(self) -> None:
        """The call is over: forget its sockets and stop the timer."""
        with self._lock:
            self._done = True
            self._sockets = []
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# ==== the transport ==============================================================================


class _GuardedConnection:
    """Mixin of urllib3 connections: open the socket through the guard, under the deadline."""

    open_socket: Callable[[str, int, float | None, Any], socket.socket]

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            return self.open_socket(host, port, self.timeout, self.socket_options)  # type: ignore[attr-defined]
        except socket.gaierror as exc:
            raise NameResolutionError(host, self, exc) from exc  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"connecting to {host} timed out") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"could not connect: {exc}") from exc  # type: ignore[arg-type]


class _HTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _Pool:
    """Mixin of urllib3 pools: hand each new connection the guarded way to open its socket."""

    def __init__(self, *args: Any, open_socket: Callable[..., socket.socket], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._open_socket = open_socket

    def _new_conn(self) -> Any:
        conn = super()._new_conn()  # type: ignore[misc]
        conn.open_socket = self._open_socket
        return conn


class _HTTPPool(_Pool, HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_Pool, HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A ``requests`` transport adapter that connects only where ``guard`` allows.

    Each connection resolves its host once (``guard.connect``), refuses if any address is
    refused, and connects to a checked address; TLS is then negotiated for the URL's host
    name (SNI, certificate) and the Host header names it, so nothing but the socket's
    address changes. Proxies are ignored. Every socket is handed to ``deadline``.
    """

    def __init__(self, guard: OutboundGuard, deadline: Deadline, name: str) -> None:
        super().__init__(max_retries=0)
        self._guard = guard
        self._deadline = deadline
        self._name = name
        self._pools: list[HTTPConnectionPool] = []

    def _open_socket(self, scheme: str) -> Callable[..., socket.socket]:
        def open_socket(host: str, port: int, timeout: Any, options: Any) -> socket.socket:
            limit = self._deadline.remaining()
            if isinstance(timeout, int | float):
                limit = min(limit, float(timeout))
            sock = self._guard.connect(
                Target("", scheme, host, port), self._name, limit, options or ()
            )
            self._deadline.watch(sock)
            return sock

        return open_socket

    def get_connection_with_tls_context(
        self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        scheme, host, port = host_params["scheme"], host_params["host"], host_params["port"]
        pool: HTTPConnectionPool
        if scheme == "https":
            pool = _HTTPSPool(host, port, open_socket=self._open_socket(scheme), **pool_kwargs)
        elif scheme == "http":
            pool = _HTTPPool(host, port, open_socket=self._open_socket(scheme))
        else:
            raise requests.exceptions.InvalidSchema(f"no connection for {scheme!r} URLs")
        self._pools.append(pool)
        return pool

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["proxies"] = {}
        return super().send(request, *args, **kwargs)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()
        self._pools.clear()
        super().close()


# ==== one call ===================================================================================


@dataclass(frozen=True)
class Limits:
    """Time and size limits of one call; ``total_timeout`` bounds it from start to last byte."""

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    total_timeout: float = 15.0
    max_response_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """A peer's HTTP answer, fully read."""

    status: int
    headers: dict[str, str]
    body: bytes


def send(
    guard: OutboundGuard,
    limits: Limits,
    method: str,
    url: str,
    *,
    name: str,
    headers: dict[str, str] | None = None,
    data: bytes | dict[str, str] | None = None,
) -> Reply:
    """Make one HTTP call through ``guard`` and read the whole answer within ``limits``.

    ``name`` says what is called ("the platform's key set") in messages. Raises UnsafeUrl
    when the URL or any address of its host is refused (before anything is sent), and
    OutboundFailed when the peer cannot be reached, answers too slowly (one read longer than
    ``read_timeout``, or the whole call longer than ``total_timeout``) or too much. Redirects
    are not followed: a redirect could lead where the guard was not asked. Every call is
    counted by its result (``learnloop_outbound_requests_total``).
    """
    try:
        reply = _send(guard, limits, method, url, name=name, headers=headers, data=data)
    except UnsafeUrl:
        metrics.count_outbound("refused")
        raise
    except OutboundFailed as failure:
        metrics.count_outbound(_failure_result(failure))
        raise
    metrics.count_outbound(f"{reply.status // 100}xx")
    return reply


def _failure_result(failure: OutboundFailed) -> str:
    """The metric's result of a failed call, from the messages ``_send`` raises."""
    if "larger than" in failure.message:
        return "too_large"
    if "did not answer" in failure.message:
        return "timeout"
    return "unreachable"


def _send(
    guard: OutboundGuard,
    limits: Limits,
    method: str,
    url: str,
    *,
    name: str,
    headers: dict[str, str] | None,
    data: bytes | dict[str, str] | None,
) -> Reply:
    guard.target(url, name)
    deadline = Deadline(limits.total_timeout)
    session = requests.Session()
    adapter = GuardedAdapter(guard, deadline, name)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    status = 0
    try:
        with session.request(
            method,
            url,
            headers=headers,
            data=data,
            timeout=(limits.connect_timeout, limits.read_timeout),
            allow_redirects=False,
            stream=True,
        ) as response:
            status = response.status_code
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                if deadline.passed():
                    break
                size += len(chunk)
                if size > limits.max_response_bytes:
                    raise OutboundFailed(
                        f"the {name} answer is larger than {limits.max_response_bytes} bytes",
                        status,
                    )
                chunks.append(chunk)
            if deadline.passed():
                raise _too_slow(name, limits, status)
            return Reply(status, dict(response.headers), b"".join(chunks))
    except requests.RequestException as exc:
        if deadline.passed():
            raise _too_slow(name, limits, status) from None
        if isinstance(exc, requests.Timeout):
            raise OutboundFailed(
                f"the {name} did not answer within {limits.read_timeout:g} s", status
            ) from None
        raise OutboundFailed(f"the {name} could not be reached", status) from None
    finally:
        deadline.cancel()
        session.close()


def _too_slow(name: str, limits: Limits, status: int) -> OutboundFailed:
    return OutboundFailed(
        f"the {name} did not answer completely within {limits.total_timeout:g} s", status
    )
