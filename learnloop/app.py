"""The application factory: the one place where configuration, database and blueprints meet."""

from __future__ import annotations

from typing import Any

from flask import Flask

from connectors.views import connectors_bp
from directory.governance import retention as governance_retention
from directory.governance import tasks as governance_tasks
from directory.governance import views as governance_views  # noqa: F401  (/api archive)
from directory.scim.views import scim
from directory.sign_in.config import OidcConfig
from directory.sign_in.oidc import install as install_sign_in
from feedback import archive as feedback_archive  # noqa: F401  (its parts of the archive)
from feedback import views as feedback_views  # noqa: F401  (/api routes of issue 20)
from learnloop import errors, health, metrics, observe
from learnloop.config import Config
from learnloop.proxies import TrustedProxies, parse_networks
from learnloop.services import build_services
from learnloop.worker import TASKS
from lrs import http, inputs, oauth_views, queue
from lrs.alternate import AlternateRequestSyntax
from lrs.forwarding import tasks as forwarding_tasks
from lrs.forwarding.settings import ForwardingConfig
from lrs.forwarding.settings import install as install_forwarding
from lrs.routes import xapi
from lrs.runtime import install as install_lrs
from lrs.webhooks import WEBHOOK, on_webhook
from lti import install as install_lti
from lti import tasks as lti_tasks
from lti.config import LtiConfig
from lti.views import admin as lti_admin
from lti.views import lti
from notifications import recognition as notify_recognition
from notifications import tasks as notification_tasks
from notifications.settings import MailConfig
from notifications.settings import install as install_mail
from objectives import tasks as objective_tasks
from objectives.lti_hooks import install as objectives_in_lti
from objectives.views import api
from recognition import archive as recognition_archive  # noqa: F401  (its parts of the archive)
from recognition import tasks as recognition_tasks
from recognition import views as recognition_views  # /api routes and the badges' documents
from recognition.runtime import install as install_recognition
from web.routes import pages


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Learnloop app. ``overrides`` replace ``Config`` fields (tests use this)."""
    config = Config.from_env(**(overrides or {}))
    app = Flask("learnloop", static_folder=None)
    observe.install(app)  # first: its clock starts before, and its access line ends after, all
    inputs.install(app)  # the strict JSON reader, bounded ids, no NUL: before any blueprint
    health.install(app)  # /health/live, /health/ready (LEARNLOOP_READY_MAX_LAG_SECONDS)
    metrics.install(app)  # /metrics (loopback, or LEARNLOOP_METRICS_TOKEN)
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    services = build_services(config)
    app.secret_key = services.instance_secret()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure when served over https: by its public URL, or per request from a trusted proxy.
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.json.compact = True
    install_lrs(app, services)
    app.extensions["learnloop"] = services
    http.install(app, services.clock)
    errors.install(app)
    install_lti(app, LtiConfig.from_env(), services.clock)
    objectives_in_lti(app)
    install_sign_in(app, OidcConfig.from_env())  # LEARNLOOP_OIDC_*, checked at start
    install_forwarding(app, ForwardingConfig.from_env())  # LEARNLOOP_FORWARDING_*, checked too
    recognition = install_recognition(app)  # its listeners: on_kudos_received, on_badge_earned
    recognition.on_kudos_received.append(notify_recognition.on_kudos_received)
    recognition.on_badge_earned.append(notify_recognition.on_badge_earned)
    install_mail(app, MailConfig.from_env())  # LEARNLOOP_SMTP_*: unset, nothing is e-mailed
    for blueprint in (xapi, lti, lti_admin, connectors_bp, api, pages):
        app.register_blueprint(blueprint)
    app.register_blueprint(scim)  # /scim/v2: provisioning by the identity provider
    app.register_blueprint(recognition_views.badges_public)  # Open Badges issuer, keys
    oauth_views.install(app)  # LEARNLOOP_OAUTH_*, checked at start
    app.register_blueprint(oauth_views.oauth)  # /oauth/token, /oauth/revoke (issue 17)
    app.extensions[TASKS] = {
        # forwarding fans out first: a failing projection must not hold statements back
        # then objectives project the facts, then badges are awarded from them
        queue.STATEMENTS: forwarding_tasks.fan_out_then(
            recognition_tasks.after_objectives(objective_tasks.on_statements)
        ),
        recognition_tasks.BADGE: recognition_tasks.on_badge,
        forwarding_tasks.FORWARD: forwarding_tasks.forward,
        WEBHOOK: on_webhook,
        queue.PERSON: recognition_tasks.after_person(objective_tasks.on_person),
        lti_tasks.GRADE: lti_tasks.send_grade,
        governance_retention.RETENTION: governance_tasks.on_retention,
        **notification_tasks.TASKS,  # notify, email, digest, review_due, chat
    }
    app.wsgi_app = AlternateRequestSyntax(app.wsgi_app, config.max_request_bytes)
    app.wsgi_app = TrustedProxies(app.wsgi_app, parse_networks(config.trusted_proxies))
    return app
