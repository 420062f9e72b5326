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
    app = Flask("learnloop", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.secret_key = config.secret_key or instance_secret(config.instance_path)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
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

    from connectors.views import connectors_bp
    from lrs.xapi import xapi

    app.register_blueprint(xapi)
    import lti

    lti.init_app(app)
    from objectives.lti_hooks import install as objectives_in_lti

    objectives_in_lti(app)
    app.register_blueprint(connectors_bp)

    from objectives.views import api

    app.register_blueprint(api)

    from web.views import pages

    app.register_blueprint(pages)
    app.wsgi_app = AlternateRequestSyntax(app.wsgi_app, config.max_request_bytes)
    return app


def instance_secret(instance_path: str) -> str:
    """The signing key of sessions when LEARNLOOP_SECRET_KEY is unset: made once, kept on disk.

    Every worker of one machine shares it; set LEARNLOOP_SECRET_KEY when several machines serve.
    """
    import os
    import secrets

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
