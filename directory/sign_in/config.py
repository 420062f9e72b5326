"""Settings of single sign-on, read once from ``LEARNLOOP_OIDC_*`` and checked at startup.

Calls to an OpenID provider (discovery, key set, token endpoint) go through the outbound guard
(``lrs.outbound``) like every call Learnloop makes: https to public addresses only, one
resolution checked at connect time, a total deadline. ``allow_http_loopback`` is for the tests'
provider and local demos (off by default); ``allowed_networks`` for a provider inside the
company network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lrs.settings import OutboundSettings, from_env


@dataclass(frozen=True)
class OidcConfig(OutboundSettings):
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
        return from_env(cls, "LEARNLOOP_OIDC_", environ, overrides)
