"""Settings of the LTI tool, read once from ``LEARNLOOP_LTI_*`` variables and checked at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lrs.settings import OutboundSettings, from_env


@dataclass(frozen=True)
class LtiConfig(OutboundSettings):
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
        return from_env(cls, "LEARNLOOP_LTI_", environ, overrides)
