"""The service registry: each domain's run-time objects, built once from the configuration."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache

from learnloop.config import Config
from lrs.auth import Authenticator
from lrs.db import make_engine, make_session_factory
from lrs.runtime import LrsRuntime
from lrs.statements.canonical import SeenDefinitions
from lrs.statements.write import now_ms
from lrs.throttle import Throttle


@dataclass
class Services(LrsRuntime):
    """The LRS runtime as the shell built it, with the configuration it was built from.

    Installed as ``app.extensions["learnloop"]`` and, as the LRS runtime, ``["lrs"]``: one
    object, so a test that changes the clock changes it for every domain.
    """

    config: Config | None = None


def build_services(config: Config) -> Services:
    """The registry for ``config``: engine and sessions, the credential cache, the clock."""
    pool = {
        "pool_size": config.database_pool_size,
        "max_overflow": config.database_max_overflow,
        "pgbouncer": config.database_pooler == "pgbouncer",
    }
    engine = make_engine(config.database_url, **pool)
    sessions = make_session_factory(engine)
    throttle = Throttle(sessions, now_ms)
    replica = (
        make_session_factory(make_engine(config.replica_url, **pool))
        if config.replica_url
        else None
    )
    return Services(
        engine=engine,
        sessions=sessions,
        replica_sessions=replica,
        authenticator=Authenticator(config.auth_cache_seconds, throttle),
        throttle=throttle,
        clock=now_ms,
        seen_definitions=SeenDefinitions(),
        public_url=config.public_url,
        instance_secret=cache(lambda: config.secret_key or instance_secret(config.instance_path)),
        config=config,
    )


def instance_secret(instance_path: str) -> str:
    """The signing key of sessions when LEARNLOOP_SECRET_KEY is unset: made once, kept on disk.

    Every worker of one machine shares it; set LEARNLOOP_SECRET_KEY when several machines serve.
    """
    path = os.path.join(os.path.abspath(instance_path), "secret_key")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    with open(path) as handle:
        return handle.read().strip()
