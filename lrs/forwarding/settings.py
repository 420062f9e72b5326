"""Settings of forwarding and webhooks, read once from ``LEARNLOOP_FORWARDING_*``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from lrs.settings import OutboundSettings, from_env

#: Where the app factory puts the settings (``install``).
EXTENSION = "lrs.forwarding"


@dataclass(frozen=True)
class ForwardingConfig(OutboundSettings):
    """How statements are forwarded and webhook events sent."""

    #: Allow destinations and webhook endpoints on loopback, over http too: tests and local
    #: set-ups only.
    allow_http_loopback: bool = False
    #: Networks that may be called although they are not public (https only), e.g. an LRS
    #: inside the company network: ``10.2.0.0/16``.
    allowed_networks: str = ""
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_response_bytes: int = 1024 * 1024
    #: Statements sent in one POST.
    batch_size: int = 500
    #: Statements read after the cursor per batch when looking for matching ones.
    scan_size: int = 5000
    #: Seconds one forward job may send batches before it yields the worker to other jobs.
    job_seconds: float = 10.0
    #: First retry delay after a failure; doubled each time, capped at ``backoff_cap_ms``.
    backoff_base_ms: int = 2_000
    backoff_cap_ms: int = 15 * 60_000
    #: Failures in a row after which a destination is dead-lettered (stopped until resumed).
    max_failures: int = 12

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> ForwardingConfig:
        """Read ``LEARNLOOP_FORWARDING_<NAME>``; ConfigError names a bad variable."""
        return from_env(cls, "LEARNLOOP_FORWARDING_", environ, overrides)

    def backoff_ms(self, failures: int) -> int:
        """Delay before the next attempt after ``failures`` failures in a row."""
        return min(self.backoff_base_ms * 2 ** max(failures - 1, 0), self.backoff_cap_ms)


def install(app: Any, config: ForwardingConfig) -> None:
    app.extensions[EXTENSION] = config


def forwarding_config() -> ForwardingConfig:
    """The app's settings; outside an app (a command), read from the environment."""
    if has_app_context() and EXTENSION in current_app.extensions:
        return current_app.extensions[EXTENSION]
    return ForwardingConfig.from_env()
