"""Every family of LEARNLOOP_* settings, read in one place so all of them are checked at start.

Each domain reads its own variables (``Config``, ``LtiConfig``, ``OidcConfig``, forwarding,
OAuth, metrics, readiness, SMTP). ``serve`` reads them all before any worker forks, so a bad value
is one line instead of a traceback in every gunicorn worker; ``doctor`` lists every bad one.
"""

from __future__ import annotations

from schemas.errors import ConfigError


def problems(environ: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the settings in ``environ`` (default: the process's), one per family."""
    from directory.sign_in.config import OidcConfig
    from learnloop.config import Config
    from learnloop.health import max_lag_seconds
    from learnloop.metrics import metrics_token
    from lrs.deliveries import log_settings
    from lrs.forwarding.settings import ForwardingConfig
    from lrs.oauth import settings_from_env as oauth_settings
    from lti.config import LtiConfig
    from notifications.settings import MailConfig

    found = []
    for read in (
        lambda: Config.from_env(environ),
        lambda: LtiConfig.from_env(environ),
        lambda: OidcConfig.from_env(environ),
        lambda: ForwardingConfig.from_env(environ),
        lambda: oauth_settings(environ),
        lambda: metrics_token(environ),
        lambda: max_lag_seconds(environ),
        lambda: MailConfig.from_env(environ),
        lambda: log_settings(environ),
    ):
        try:
            read()
        except ConfigError as error:
            found.append(str(error))
    return found


def check() -> None:
    """ConfigError naming the first bad setting of this process's environment."""
    found = problems()
    if found:
        raise ConfigError(found[0])
