"""Calls from the tool to platforms: one guarded HTTP client, a key-set cache, a token cache.

Every call goes through ``lrs.outbound`` (issue 13: "the same guard for every outbound call
(LTI, dynamic registration, AGS/NRPS, forwarding)"): the URL's form is checked, its host is
resolved once at connect time, any loopback, private, link-local, multicast or reserved
address is refused, and the connection goes to the address that was checked. Connect and
read timeouts apply, and a total deadline per call (``LEARNLOOP_LTI_TOTAL_TIMEOUT``);
redirects are refused (a redirect could lead past the check) and at most
``max_response_bytes`` are read. Failures become ``PlatformServiceError`` with the platform's
status; the platform's body is logged at debug level only, because it may echo tokens (trap 4
of STYLE.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lrs import outbound
from lrs.errors import LrsError, OutboundFailed
from lti.config import LtiConfig
from lti.errors import JwksUnavailable, PlatformServiceError, UnsafeUrl
from schemas.jsoninput import read_json

log = logging.getLogger("learnloop.lti.outbound")


@dataclass(frozen=True)
class Answer:
    """A platform's HTTP answer, fully read."""

    status: int
    headers: dict[str, str]
    body: bytes
    what: str

    def json(self) -> Any:
        try:  # bounded like every JSON from outside: depth, size, NaN, duplicate keys, NUL
            return read_json(self.body, root=self.what)
        except LrsError as exc:
            raise PlatformServiceError(
                f"the platform's {self.what} answer is not JSON we accept: {exc.message}",
                self.status,
            ) from None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class PlatformHttp:
    """The one way the tool talks HTTP to platforms.

    ``guard`` decides where the tool may connect (``LtiConfig.outbound_guard``); pass a
    ``resolver`` to answer for the DNS (tests of rebinding do).
    """

    def __init__(
        self, config: LtiConfig, resolver: outbound.Resolver = outbound.system_resolver
    ) -> None:
        self._config = config
        self.guard = config.outbound_guard(resolver)
        self.limits = config.limits()

    def check(self, url: str, field: str, *, resolve: bool = True) -> str:
        """``url`` if the tool may call it; UnsafeUrl (400) naming ``field`` otherwise.

        For URLs as they are given (registrations, dynamic registration, launch claims): the
        host is resolved and every address checked; the call checks again when it connects.
        ``resolve=False`` checks the form and IP literals only (no DNS, e.g. under a lock).
        """
        if not resolve:
            self.guard.target(url, field)
            return url
        return self.guard.check_url(url, field)

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json_body: Any = None,
        content_type: str | None = None,
    ) -> Answer:
        """Send one request and read the answer.

        UnsafeUrl if the URL or an address of its host is refused; PlatformServiceError if
        the platform is unreachable, too slow or answers too much.
        """
        headers = dict(headers or {})
        body: bytes | dict[str, str] | None = data
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type or "application/json"
        try:
            reply = outbound.send(
                self.guard,
                self.limits,
                method,
                url,
                name=f"platform's {what}",
                headers=headers,
                data=body,
            )
        except OutboundFailed as exc:
            log.info("platform %s failed: %s", what, exc.message)
            raise PlatformServiceError(exc.message, exc.upstream_status) from None
        answer = Answer(reply.status, reply.headers, reply.body, what)
        if not answer.ok:
            log.debug("platform %s answered %s: %.500r", what, answer.status, answer.body)
        return answer


@dataclass
class _KeySet:
    fetched: float
    keys: dict[str, dict[str, Any]]


class JwksCache:
    """Platform key sets by URL: cached for ``ttl`` seconds, fetched again on an unknown kid.

    A refetch for an unknown kid happens at most once per ``min_refetch`` seconds per URL, so
    tokens with made-up kids cannot turn the tool into a load generator against a platform.
    """

    def __init__(
        self,
        http: PlatformHttp,
        ttl: float,
        min_refetch: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._clock = clock
        self._sets: dict[str, _KeySet] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, url: str, kid: str, refresh: bool) -> dict[str, Any] | None:
        """The public JWK with ``kid`` from the key set at ``url``, or None."""
        now = self._clock()
        with self._lock:
            cached = self._sets.get(url)
        stale = cached is None or now - cached.fetched > self._ttl
        may_refetch = cached is not None and now - cached.fetched >= self._min_refetch
        if stale or (refresh and may_refetch):
            cached = _KeySet(now, self._fetch(url))
            with self._lock:
                self._sets[url] = cached
        assert cached is not None
        return cached.keys.get(kid)

    def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        self.fetches += 1
        try:
            answer = self._http.request(
                "GET", url, what="key set", headers={"Accept": "application/json"}
            )
            if answer.status != 200:
                raise JwksUnavailable(f"the platform's key set URL answered HTTP {answer.status}")
            body = answer.json()
        except UnsafeUrl as exc:
            raise JwksUnavailable(
                f"the registration's key set URL is not allowed: {exc.message}"
            ) from None
        except PlatformServiceError as exc:
            raise JwksUnavailable(exc.message) from None
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            raise JwksUnavailable("the platform's key set has no keys array")
        return {
            k["kid"]: k
            for k in keys
            if isinstance(k, dict) and isinstance(k.get("kid"), str) and k.get("kty") == "RSA"
        }


class TokenCache:
    """Platform access tokens per (registration, scope set), until shortly before they expire."""

    MARGIN = 30.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[int, frozenset[str]], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, registration_id: int, scopes: frozenset[str]) -> str | None:
        with self._lock:
            hit = self._tokens.get((registration_id, scopes))
        if hit and hit[0] > self._clock():
            return hit[1]
        return None

    def put(self, registration_id: int, scopes: frozenset[str], token: str, expires_in: float):
        expires = self._clock() + max(expires_in - self.MARGIN, 0.0)
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[(registration_id, scopes)] = (expires, token)

    def drop(self, registration_id: int, scopes: frozenset[str]) -> None:
        with self._lock:
            self._tokens.pop((registration_id, scopes), None)
