"""Settings of the LTI tool, read once from ``LEARNLOOP_LTI_*`` variables and checked at startup."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from lrs.errors import ConfigError
from lrs.outbound import (
    LOOPBACK_NETWORKS,
    Limits,
    OutboundGuard,
    Resolver,
    parse_networks,
    system_resolver,
)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class LtiConfig:
    """Everything the LTI tool can be configured with (see the README's LTI section)."""

    #: Allow platforms on loopback (``127.0.0.0/8``, ``::1``), over http too: the test
    #: platforms and local demos only; a production platform is always https.
    allow_http_loopback: bool = False
    #: Networks the tool may call although they are not public, e.g. ``10.2.0.0/16`` for an
    #: LMS inside the company network (comma-separated addresses or networks; https only).
    #: Empty by default: every address of a platform's host must be public.
    allowed_networks: str = ""
    #: Seconds to connect to a platform, and to wait for each read from it.
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    #: Seconds one call to a platform may take in all, however slowly it answers.
    total_timeout: float = 15.0
    #: How long a fetched platform key set is trusted before it is fetched again.
    jwks_cache_seconds: float = 600.0
    #: The shortest time between two fetches of one key set (an unknown kid cannot make us
    #: hammer a platform).
    jwks_min_refetch_seconds: float = 5.0
    #: How long a login may take from initiation to launch.
    login_seconds: int = 600
    #: Lifetime of the signed launch token carried by the pages after a launch.
    launch_token_seconds: int = 3600
    #: Clock-skew leeway on exp/iat/nbf.
    leeway_seconds: int = 60
    #: How long a retired tool key stays published after ``rotate-keys``.
    key_grace_seconds: int = 7 * 24 * 3600
    #: Lifetime of a dynamic registration link.
    invite_seconds: int = 7 * 24 * 3600
    #: Largest platform response body read (key sets, memberships pages).
    max_response_bytes: int = 5 * 1024 * 1024
    tool_name: str = "Learnloop"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> LtiConfig:
        """Read ``LEARNLOOP_LTI_<NAME>`` for each field; ``overrides`` win over the environment.

        Raises ConfigError naming the variable (never its value) when a value does not parse.
        """
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = "LEARNLOOP_LTI_" + f.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            default = getattr(cls, f.name)
            try:
                if isinstance(default, bool):
                    lowered = raw.strip().lower()
                    if lowered not in _TRUE | _FALSE:
                        raise ValueError
                    values[f.name] = lowered in _TRUE
                else:
                    values[f.name] = type(default)(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a {type(default).__name__}") from None
        config = replace(replace(cls(), **values), **overrides)
        for f in fields(cls):
            value = getattr(config, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
                raise ConfigError(f"LEARNLOOP_LTI_{f.name.upper()} must be positive")
        try:
            parse_networks(config.allowed_networks)
        except ValueError:
            raise ConfigError(
                "LEARNLOOP_LTI_ALLOWED_NETWORKS must list IP addresses or networks, "
                "e.g. 10.2.0.0/16"
            ) from None
        return config

    def outbound_guard(self, resolver: Resolver = system_resolver) -> OutboundGuard:
        """The guard of every call to a platform (``lrs.outbound``), from these settings."""
        loopback = LOOPBACK_NETWORKS if self.allow_http_loopback else ()
        return OutboundGuard(
            allowed_networks=parse_networks(self.allowed_networks),
            http_networks=loopback,
            resolver=resolver,
        )

    def limits(self) -> Limits:
        """Time and size limits of one call to a platform."""
        return Limits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_response_bytes=self.max_response_bytes,
        )
