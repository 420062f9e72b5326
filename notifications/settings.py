"""The e-mail settings, read once from ``LEARNLOOP_SMTP_*``; unset host: nothing is e-mailed.

Quiet by default: without ``LEARNLOOP_SMTP_HOST`` the inbox still fills, but no e-mail is
queued (the demo sends nothing). ``learnloop doctor`` connects with them (``mail.check``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from lrs.errors import ConfigError
from lrs.settings import from_env

#: Where the app factory puts the settings (``install``).
EXTENSION = "notifications"
SECURITIES = ("starttls", "tls", "none")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PREFIX = "LEARNLOOP_SMTP_"


@dataclass(frozen=True)
class MailConfig:
    """How Learnloop sends e-mail and when the weekly digest goes out (UTC)."""

    host: str = ""
    port: int = 587
    #: ``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a local relay).
    security: str = "starttls"
    username: str = ""
    password: str = ""
    #: ``Learnloop <learnloop@example.com>``: the From of every message.
    from_address: str = ""
    #: A PEM file of the CA that signed the server's certificate, when not a public one.
    ca_file: str = ""
    timeout: float = 10.0
    digest_day: str = "monday"
    digest_time: str = "08:00"
    #: "Your review is due": this many days before the cycle's last day.
    due_days: int = 7

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> MailConfig:
        """Read ``LEARNLOOP_SMTP_<NAME>``; ConfigError names a bad variable, never a value."""
        config = from_env(cls, PREFIX, environ, overrides)
        if config.security not in SECURITIES:
            raise ConfigError(f"{PREFIX}SECURITY must be one of {', '.join(SECURITIES)}")
        if not 0 < config.port < 65536:
            raise ConfigError(f"{PREFIX}PORT must be a port number (1-65535)")
        if config.digest_day.lower() not in DAYS:
            raise ConfigError(f"{PREFIX}DIGEST_DAY must be a day of the week, e.g. monday")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", config.digest_time):
            raise ConfigError(f"{PREFIX}DIGEST_TIME must be a time of day in UTC, e.g. 08:00")
        if config.host and "@" not in config.from_address:
            raise ConfigError(
                f"{PREFIX}FROM_ADDRESS must be set when {PREFIX}HOST is, "
                "e.g. Learnloop <learnloop@example.com>"
            )
        if bool(config.username) != bool(config.password):
            raise ConfigError(f"{PREFIX}USERNAME and {PREFIX}PASSWORD go together")
        return config

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def next_digest_ms(self, now_ms: int) -> int:
        """The first digest time strictly after ``now_ms``."""
        now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
        hour, minute = (int(part) for part in self.digest_time.split(":"))
        day = DAYS.index(self.digest_day.lower())
        moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        moment += dt.timedelta(days=(day - moment.weekday()) % 7)
        if moment <= now:
            moment += dt.timedelta(days=7)
        return int(moment.timestamp() * 1000)

    def next_daily_ms(self, now_ms: int) -> int:
        """The next digest time of day strictly after ``now_ms`` (the daily "due" scan)."""
        now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
        hour, minute = (int(part) for part in self.digest_time.split(":"))
        moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if moment <= now:
            moment += dt.timedelta(days=1)
        return int(moment.timestamp() * 1000)


def install(app: Any, config: MailConfig) -> None:
    app.extensions[EXTENSION] = config


def mail_config() -> MailConfig:
    """The app's settings; outside an app (a command), read from the environment."""
    if has_app_context() and EXTENSION in current_app.extensions:
        return current_app.extensions[EXTENSION]
    return MailConfig.from_env()
