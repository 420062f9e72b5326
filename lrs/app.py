"""The application factory: the one place where configuration, database and blueprints meet."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lrs import http
from lrs.alternate import AlternateRequestSyntax
from lrs.auth import Authenticator
from lrs.config import Config
from lrs.db import make_engine, make_session_factory
from lrs.services import Services
from lrs.statements.canonical import SeenDefinitions
from lrs.statements.write import now_ms


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Learnloop app. ``overrides`` replace ``Config`` fields (tests use this)."""
    config = Config.from_env(**(overrides or {}))
    app = Flask("learnloop", instance_path=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    engine = make_engine(config.database_url)
    app.extensions["learnloop"] = Services(
        config=config,
        engine=engine,
        sessions=make_session_factory(engine),
        authenticator=Authenticator(config.auth_cache_seconds),
        clock=now_ms,
        seen_definitions=SeenDefinitions(),
    )
    http.install(app, now_ms)

    from lrs.xapi import xapi

    app.register_blueprint(xapi)
    app.wsgi_app = AlternateRequestSyntax(app.wsgi_app, config.max_request_bytes)
    return app
