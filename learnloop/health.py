"""Health for orchestrators and load balancers: is the process alive, is it ready for traffic.

- ``GET /health/live``: the process answers. No database: a database outage must not make an
  orchestrator restart every healthy web worker.
- ``GET /health/ready``: the database answers, its schema is the one the code expects (its
  Alembic revision is the code's head: a new release started before ``learnloop db upgrade``
  is not ready), and the durable queue is being drained (the oldest due job has waited less
  than ``LEARNLOOP_READY_MAX_LAG_SECONDS``; 0 turns this check off).

Both answer JSON naming each check and its result, 200 when all pass, else 503. No
authentication, so they say nothing that needs one: no database URL, no error text (that goes
to the log), only revision ids and seconds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy.orm import Session

from learnloop.schema import code_heads, database_heads
from lrs.db import read_transaction
from lrs.runtime import lrs_runtime
from lrs.sql import run
from schemas.errors import ConfigError

log = logging.getLogger("learnloop.health")

health = Blueprint("health", __name__)

MAX_LAG_VARIABLE = "LEARNLOOP_READY_MAX_LAG_SECONDS"
DEFAULT_MAX_LAG_SECONDS = 60.0
_SETTING = "learnloop.ready_max_lag_seconds"


def max_lag_seconds(environ: dict[str, str] | None = None) -> float:
    """``LEARNLOOP_READY_MAX_LAG_SECONDS``: a number of seconds, 0 for no lag check."""
    raw = (os.environ if environ is None else environ).get(MAX_LAG_VARIABLE)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_LAG_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"{MAX_LAG_VARIABLE} must be a number of seconds (0 turns it off)")
    return value


def install(app: Flask, environ: dict[str, str] | None = None) -> None:
    """Read the settings (a bad one stops the start) and register ``/health``."""
    app.extensions[_SETTING] = max_lag_seconds(environ)
    app.register_blueprint(health)


# ---- the queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueState:
    """The ``jobs`` table at one moment: how many jobs of each kind in each state, how late."""

    jobs: dict[tuple[str, str], int]
    due: int
    lag_seconds: float


def queue_state(session: Session, now_ms: int) -> QueueState:
    """Jobs by kind and state; how many are due; how long the oldest due job has waited.

    Due: pending with its time come, or running with its worker's lease run out (claimed again
    by the next worker); the wait counts from that moment.
    """
    jobs = {
        (kind, state): count
        for kind, state, count in run(
            session, "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state"
        ).all()
    }
    due, since = run(
        session,
        "SELECT COUNT(*), MIN(since) FROM ("
        "SELECT run_at_ms AS since FROM jobs WHERE state = 'pending' AND run_at_ms <= ? "
        "UNION ALL "
        "SELECT locked_until_ms AS since FROM jobs WHERE state = 'running' AND locked_until_ms < ?"
        ") due",
        [now_ms, now_ms],
    ).one()
    lag = max(0.0, (now_ms - since) / 1000) if since is not None else 0.0
    return QueueState(jobs, int(due or 0), lag)


# ---- the schema -------------------------------------------------------------------------------


# ---- the routes -------------------------------------------------------------------------------


def _answer(checks: dict[str, dict[str, Any]]):
    ok = all(check["ok"] for check in checks.values())
    response = jsonify({"status": "ok" if ok else "unavailable", "checks": checks})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@health.get("/health/live")
def live():
    """The process answers; nothing else is asked."""
    return _answer({"process": {"ok": True}})


@health.get("/health/ready")
def ready():
    """The database, its schema and the queue's lag, each named with its result."""
    runtime = lrs_runtime()
    limit = current_app.extensions[_SETTING]
    checks: dict[str, dict[str, Any]] = {}
    # Each check in its own transaction: on PostgreSQL a failed query spoils the rest of one.
    if not _check(runtime, checks, "database", "the database did not answer", _database):
        checks["migrations"] = {"ok": False, "reason": "not checked"}
        checks["queue"] = {"ok": False, "reason": "not checked"}
        return _answer(checks)
    _check(runtime, checks, "migrations", "the schema's revision could not be read", _schema)
    _check(
        runtime,
        checks,
        "queue",
        "the queue could not be read",
        lambda session: _queue(session, runtime.clock(), limit),
    )
    return _answer(checks)


def _check(runtime, checks: dict, name: str, failure: str, check) -> bool:
    """Run ``check(session)`` into ``checks[name]``; an exception is logged, not shown."""
    try:
        with read_transaction(runtime.sessions) as session:
            checks[name] = check(session)
    except Exception as error:  # the reason goes to the log, never to an anonymous caller
        log.warning("readiness: %s: %s: %s", failure, type(error).__name__, error)
        checks[name] = {"ok": False, "reason": failure}
    return checks[name]["ok"]


def _database(session: Session) -> dict[str, Any]:
    run(session, "SELECT 1").all()
    return {"ok": True}


def _schema(session: Session) -> dict[str, Any]:
    found, expected = database_heads(session.connection()), code_heads()
    return {"ok": found == expected, "database": sorted(found), "code": sorted(expected)}


def _queue(session: Session, now_ms: int, limit: float) -> dict[str, Any]:
    state = queue_state(session, now_ms)
    return {
        "ok": limit == 0 or state.lag_seconds <= limit,
        "lag_seconds": round(state.lag_seconds, 3),
        "max_lag_seconds": limit,
        "due": state.due,
    }
