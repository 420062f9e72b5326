"""Settings read once from ``LEARNLOOP_<DOMAIN>_*`` variables, for the domains that call out.

The LTI tool and single sign-on read their settings the same way and guard their calls with the
same ``lrs.outbound`` rules; this is that one way.
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from typing import Any, TypeVar

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
Settings = TypeVar("Settings")


def from_env(
    cls: type[Settings], prefix: str, environ: dict[str, str] | None, overrides: dict[str, Any]
) -> Settings:
    """Read ``<prefix><FIELD>`` for each field of the dataclass ``cls``; ``overrides`` win.

    Raises ConfigError naming the variable (never its value) when a value does not parse, when a
    number is not positive, or when ``allowed_networks`` is not a list of networks.
    """
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for f in fields(cls):
        name = prefix + f.name.upper()
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
            kind = {"int": "whole number", "float": "number", "bool": "true or false"}.get(
                type(default).__name__, type(default).__name__
            )
            raise ConfigError(f"{name} must be a {kind}") from None
    config = replace(replace(cls(), **values), **overrides)
    for f in fields(cls):
        value = getattr(config, f.name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            raise ConfigError(f"{prefix}{f.name.upper()} must be positive")
    try:
        parse_networks(getattr(config, "allowed_networks", ""))
    except ValueError:
        raise ConfigError(
            f"{prefix}ALLOWED_NETWORKS must list IP addresses or networks, e.g. 10.2.0.0/16"
        ) from None
    return config


class OutboundSettings:
    """The guard and limits of calls out, for a settings dataclass.

    The dataclass has ``allow_http_loopback``, ``allowed_networks``, the three timeouts and
    ``max_response_bytes``.
    """

    allow_http_loopback: bool
    allowed_networks: str
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_response_bytes: int

    def outbound_guard(self, resolver: Resolver = system_resolver) -> OutboundGuard:
        """The guard of every call out (``lrs.outbound``), from these settings."""
        return OutboundGuard(
            allowed_networks=parse_networks(self.allowed_networks),
            http_networks=LOOPBACK_NETWORKS if self.allow_http_loopback else (),
            resolver=resolver,
        )

    def limits(self) -> Limits:
        """Time and size limits of one call out."""
        return Limits(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_response_bytes=self.max_response_bytes,
        )
