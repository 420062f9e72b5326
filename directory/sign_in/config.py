"""Settings of single sign-on, read once from ``LEARNLOOP_OIDC_*`` and checked at startup.

Calls to an OpenID provider (discovery, key set, token endpoint) go through the outbound guard
(``lrs.outbound``) like every call Learnloop makes: https to public addresses only, one
resolution checked at connect time, a total deadline. ``allow_http_loopback`` is for the tests'
provider and local demos (off by default); ``allowed_networks`` for a provider inside the
company network.
"""

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
class OidcConfig:
    """Everything single sign-on can be configured with (docs/sign-in.md)."""

    #: Allow providers on loopback (``127.0.0.0/8``, ``::1``), over http too: tests and demos.
    allow_http_loopback: bool = False
    #: Networks a provider may be in although they are not public (comma-separated; https).
    allowed_networks: str = ""
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    #: Seconds one call to the provider may take in all.
    total_timeout: float = 15.0
    #: How long a provider's discovery document and key set are trusted before a new fetch.
    cache_seconds: float = 600.0
    #: How long a sign-in may take from leaving for the provider to coming back.
    login_seconds: int = 600
    #: Clock-skew leeway on exp/iat.
    leeway_seconds: int = 60
    max_response_bytes: int = 1024 * 1024

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> OidcConfig:
        """Read ``LEARNLOOP_OIDC_<NAME>`` for each field; ``overrides`` win.

        Raises ConfigError naming the variable (never its value) when a value does not parse.
        """
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = "LEARNLOOP_OIDC_" + f.name.upper()
            raw = environ.get(name)
            if raw is None:
                continue
            default = getattr(cls, f.name)
            try:
                if isinstance(default, bool):
                    if raw.strip().lower() not in _TRUE | _FALSE:
                        raise ValueError
                    values[f.name] = raw.strip().lower() in _TRUE
                else:
                    values[f.name] = type(default)(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a {type(default).__name__}") from None
        config = replace(replace(cls(), **values), **overrides)
        for f in fields(cls):
            value = getattr(config, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
                raise ConfigError(f"LEARNLOOP_OIDC_{f.name.upper()} must be positive")
        try:
            parse_networks(config.allowed_networks)
        except ValueError:
            raise ConfigError(
                "LEARNLOOP_OIDC_ALLOWED_NETWORKS must list IP addresses or networks"
            ) from None
        return config

    def outbound_guard(self, resolver: Resolver = system_resolver) -> OutboundGuard:
        return OutboundGuard(
            allowed_networks=parse_networks(self.allowed_networks),
            http_networks=LOOPBACK_NETWORKS if self.allow_http_loopback else (),
            resolver=resolver,
        )

    def limits(self) -> Limits:
        return Limits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_response_bytes=self.max_response_bytes,
        )
