"""Logs as JSON lines on stderr: one access line per request, and every application record.

One object per line, so a log shipper reads fields instead of guessing at prose: ``ts`` (UTC,
ISO 8601, milliseconds), ``level``, ``logger``, ``pid``, ``message``; inside a request also
``request_id`` (the ``X-Request-Id`` of the answer); a traceback as ``exc``. The access line
(logger ``learnloop.access``) adds the request's fields (``learnloop.observe``).

What never reaches a line: the Authorization header, a query string, a body, a secret in a
path (``/welcome/<token>``), a cookie. Records only carry what the code put in them, so this
module cannot filter everything; it makes the safe thing the easy one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

#: The logger of the access lines.
ACCESS = "learnloop.access"
#: A record's structured fields: ``log.info(message, extra={FIELDS: {...}})``.
FIELDS = "fields"
#: Loggers whose info lines say nothing an operator needs (Alembic's plugins, loaded when the
#: readiness check reads the code's migrations).
QUIET = ("alembic.runtime.plugins", "alembic.runtime.migration")
#: URL variables whose values are secrets (``/welcome/<token>``): logged as ``[redacted]``.
SECRET_VARIABLE_WORDS = ("token", "secret", "password")


def logged_path() -> str:
    """The request's path as a log may show it: no query string, no secret in a URL variable."""
    from flask import request

    path = request.path
    for name, value in (request.view_args or {}).items():
        if any(word in name.lower() for word in SECRET_VARIABLE_WORDS) and str(value):
            path = path.replace(str(value), "[redacted]")
    return path


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            line.update(fields)
        elif (rid := _current_request_id()) is not None:
            line["request_id"] = rid
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _current_request_id() -> str | None:
    """The id of the request this record was made in, if any (and if it has one yet)."""
    try:
        from flask import g, has_request_context

        return g.get("request_id") if has_request_context() else None
    except Exception:  # logging must never fail on its own account
        return None


def configure_logging(level: str | int = "info") -> None:
    """Send every record at ``level`` or above to stderr as JSON lines (web and queue workers).

    Replaces the root logger's handlers, so calling it twice does not double the lines.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
