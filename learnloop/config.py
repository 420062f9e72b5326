"""Configuration, read once from ``LEARNLOOP_*`` environment variables and checked at startup."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from learnloop.proxies import parse_networks
from schemas.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Everything the service can be configured with; see the README for each variable."""

    database_url: str = ""
    instance_path: str = "instance"
    max_request_bytes: int = 50 * 1024 * 1024
    auth_cache_seconds: float = 15.0
    #: The externally visible base URL: every IRI Learnloop mints and every URL it gives an LMS
    #: start with it, never with a request's Host header. ``serve`` and ``demo`` default it to
    #: their own address.
    public_url: str = "http://localhost:8080"
    secret_key: str = ""
    #: Proxies whose X-Forwarded-For/-Proto headers are believed: addresses or networks.
    trusted_proxies: str = ""
    #: A PostgreSQL streaming replica that answers statement queries (``lrs.replica``).
    replica_url: str = ""
    #: PostgreSQL connections each process keeps open, and how many more it may open at a peak
    #: (docs/scaling.md: processes × (size + overflow) must stay under max_connections).
    database_pool_size: int = 10
    database_max_overflow: int = 10
    #: ``pgbouncer`` when connections go through PgBouncer in transaction mode: psycopg then
    #: prepares no statements server-side, which such a pooler cannot route.
    database_pooler: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Config:
        """Read ``LEARNLOOP_<NAME>`` for each field; ``overrides`` win over the environment."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get("LEARNLOOP_" + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = type(getattr(cls, f.name))(raw)
            except ValueError:
                kind = {"int": "whole number", "float": "number"}.get(f.type, f.type)
                raise ConfigError(f"LEARNLOOP_{f.name.upper()} must be a {kind}") from None
        config = replace(cls(), **values)
        config = replace(config, **overrides)
        if not config.database_url:
            path = os.path.abspath(os.path.join(config.instance_path, "learnloop.sqlite3"))
            config = replace(config, database_url="sqlite:///" + path)
        else:
            check_database_url(config.database_url)
        if config.replica_url:
            check_database_url(config.replica_url, "LEARNLOOP_REPLICA_URL")
            if not config.replica_url.startswith("postgresql"):
                raise ConfigError("LEARNLOOP_REPLICA_URL must name a PostgreSQL replica")
        if not config.public_url.startswith(("http://", "https://")):
            raise ConfigError("LEARNLOOP_PUBLIC_URL must be an http:// or https:// URL")
        config = replace(config, public_url=config.public_url.rstrip("/"))
        try:
            parse_networks(config.trusted_proxies)
        except ValueError as exc:
            raise ConfigError(f"LEARNLOOP_TRUSTED_PROXIES: {exc}") from None
        if config.database_pool_size < 1 or config.database_max_overflow < 0:
            raise ConfigError(
                "LEARNLOOP_DATABASE_POOL_SIZE must be at least 1 and "
                "LEARNLOOP_DATABASE_MAX_OVERFLOW at least 0"
            )
        if config.database_pooler not in ("", "pgbouncer"):
            raise ConfigError("LEARNLOOP_DATABASE_POOLER must be empty or pgbouncer")
        if config.max_request_bytes <= 0:
            raise ConfigError("LEARNLOOP_MAX_REQUEST_BYTES must be positive")
        return config


DATABASE_URL_FORMS = (
    "sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user:password@host:5432/name"
)


def check_database_url(url: str, variable: str = "LEARNLOOP_DATABASE_URL") -> None:
    """A URL Learnloop can use: SQLite into an existing folder, or PostgreSQL through psycopg.

    Checked at start, so a typo is one sentence rather than a driver's traceback, and a SQLite
    path into a folder that is not there is refused instead of the folder tree being created.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{variable} is not a database URL; use {DATABASE_URL_FORMS}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        raise ConfigError(f"{variable}: write postgresql+psycopg://, not postgres://")
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"{variable}: Learnloop runs on SQLite or PostgreSQL, not {backend}; "
            f"use {DATABASE_URL_FORMS}"
        )
    if backend == "postgresql" and driver not in ("", "psycopg"):
        raise ConfigError(
            f"{variable}: use the psycopg driver (postgresql+psycopg://), not {driver}"
        )
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = os.path.dirname(os.path.abspath(parsed.database))
        if not os.path.isdir(folder):
            raise ConfigError(
                f"{variable}: the folder {folder} does not exist; create it or correct the path"
            )
