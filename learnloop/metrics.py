"""``GET /metrics``: the service's figures in Prometheus's text format.

Counted where things happen (``lrs.metrics``: requests, statements stored, webhook deliveries,
LTI launches, outbound calls, queue jobs run); the queue's depth and lag are read from the
``jobs`` table at each scrape. Under ``learnloop serve`` every process (each gunicorn worker,
the queue worker) writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums
them, so whichever worker answers, the figures are the whole server's. Without that directory
(tests, ``flask run``) the process's own registry is served.

Who may read: a client on this machine (loopback, and no proxy's forwarding header: behind a
local proxy every client would otherwise look local), or anyone presenting
``Authorization: Bearer <LEARNLOOP_METRICS_TOKEN>`` (compared in constant time). Others get the
project's JSON error: 401 when a token is configured, 403 when none is.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from flask import Blueprint, Flask, Response, current_app, request

from learnloop.health import queue_state
from learnloop.worker import TASKS
from lrs.db import read_transaction
from lrs.errors import Forbidden, Unauthorized
from lrs.metrics import MULTIPROC_DIR
from lrs.runtime import LrsRuntime, lrs_runtime
from schemas.errors import ConfigError

log = logging.getLogger("learnloop.metrics")

metrics_bp = Blueprint("metrics", __name__)

TOKEN_VARIABLE = "LEARNLOOP_METRICS_TOKEN"  # noqa: S105 (the variable's name)
MIN_TOKEN_LENGTH = 16
_SETTING = "learnloop.metrics_token"
_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host")
JOB_STATES = ("pending", "running", "failed")


def metrics_token(environ: dict[str, str] | None = None) -> str:
    """``LEARNLOOP_METRICS_TOKEN``: "" for none; ConfigError (naming the key) if too short."""
    token = (os.environ if environ is None else environ).get(TOKEN_VARIABLE, "").strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{TOKEN_VARIABLE} must be at least {MIN_TOKEN_LENGTH} characters")
    return token


def install(app: Flask, environ: dict[str, str] | None = None) -> None:
    """Read ``LEARNLOOP_METRICS_TOKEN`` (a short one stops the start) and register ``/metrics``."""
    app.extensions[_SETTING] = metrics_token(environ)
    app.register_blueprint(metrics_bp)


@metrics_bp.get("/metrics")
def scrape():
    """Every figure of the server (all its processes), then the queue's, read now."""
    from prometheus_client.exposition import choose_encoder

    _allow()
    # The text format Prometheus asks for in Accept (OpenMetrics, or the classic 0.0.4).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    registry = scrape_registry(lrs_runtime(), tuple(current_app.extensions[TASKS]))
    headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
    return Response(encode(registry), headers=headers)


def _allow() -> None:
    """Return when the caller may read; raise the JSON 401/403 otherwise."""
    token = current_app.extensions[_SETTING]
    presented = request.headers.get("Authorization", "")
    if token and presented[:7].lower() == "bearer ":
        if hmac.compare_digest(presented[7:].strip().encode(), token.encode()):
            return
    elif _local():
        return
    if not token:
        raise Forbidden(
            "/metrics answers clients on this machine only; to scrape from elsewhere set "
            f"{TOKEN_VARIABLE} and send it as Authorization: Bearer <token>"
        )
    refusal = Unauthorized(
        "the metrics token is wrong"
        if presented
        else f"send the metrics token: Authorization: Bearer <{TOKEN_VARIABLE}>"
    )
    refusal.challenge = 'Bearer realm="Learnloop metrics"'
    raise refusal


def _local() -> bool:
    """The client is on this machine and no proxy says it forwarded the request."""
    if any(name in request.headers for name in _FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address((request.remote_addr or "").strip("[]")).is_loopback
    except ValueError:
        return False


def scrape_registry(runtime: LrsRuntime, kinds: tuple[str, ...]):
    """A registry for one scrape: the processes' samples, and the queue read now."""
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess(REGISTRY))
    registry.register(QueueCollector(runtime, kinds))
    return registry


class _ThisProcess:
    """The default registry's samples (one process), inside a registry made for a scrape."""

    def __init__(self, registry) -> None:
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()


class QueueCollector:
    """Gauges of the ``jobs`` table, read at each scrape: depth by kind and state, due, lag."""

    def __init__(self, runtime: LrsRuntime, kinds: tuple[str, ...]) -> None:
        self.runtime = runtime
        self.kinds = kinds

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        try:
            with read_transaction(self.runtime.sessions) as session:
                state = queue_state(session, self.runtime.clock())
        except Exception as error:  # the rest of the figures are still worth a scrape
            log.warning("metrics: the queue could not be read: %s: %s", type(error).__name__, error)
            return
        depth = GaugeMetricFamily(
            "learnloop_queue_jobs",
            "Jobs in the durable queue, by kind and state (pending, running, failed)",
            labels=["kind", "state"],
        )
        counts = {(kind, s): 0 for kind in self.kinds for s in JOB_STATES}
        counts.update(state.jobs)
        for (kind, job_state), count in sorted(counts.items()):
            depth.add_metric([kind, job_state], count)
        yield depth
        yield GaugeMetricFamily(
            "learnloop_queue_due_jobs",
            "Jobs due now: pending whose time has come, or running past their worker's lease",
            value=state.due,
        )
        yield GaugeMetricFamily(
            "learnloop_queue_lag_seconds",
            "How long the oldest due job has waited (0 when none is due)",
            value=state.lag_seconds,
        )
