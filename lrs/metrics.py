"""The service's counters and histograms, for Prometheus (``GET /metrics``, served by the shell).

They live on this floor so that the write path, the outbound guard, the LTI tool and the shell
can all count without importing the shell. ``prometheus_client`` is imported when the first
figure is counted, not when this module is: by then a process knows whether it shares its
figures through ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn's web workers and the queue worker
beside them, which ``learnloop serve`` points at one private directory) or keeps them in
memory (tests, ``flask run``).

Every label takes values from a short list fixed in code (route rules, status codes, result
names, connector kinds), never from what a client sent: an unbounded label is a memory leak.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from lrs.db import after_commit

log = logging.getLogger("learnloop.metrics")

#: Where ``PROMETHEUS_MULTIPROC_DIR`` is read: each process writes its samples to files there.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

_lock = threading.Lock()
_built: Metrics | None = None


class Metrics:
    """The metric objects of this process; see ``docs`` of each for its labels."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram, disable_created_metrics, values

        disable_created_metrics()  # the *_created series: not kept in multiprocess mode either

        if os.environ.get(MULTIPROC_DIR) and not getattr(values.ValueClass, "_multiprocess", 0):
            # prometheus_client chose in-memory values when it was imported, before the
            # directory was set; choose again now that it is (gunicorn's workers fork later).
            values.ValueClass = values.get_value_class()
        self.requests = Counter(
            "learnloop_http_requests",
            "HTTP requests answered, by method, route (the URL rule, never the path) and status",
            ["method", "route", "status"],
        )
        self.request_seconds = Histogram(
            "learnloop_http_request_duration_seconds",
            "Time from the request's arrival in the app to its answer, by method and route",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.statements = Counter(
            "learnloop_statements_stored",
            "Statements stored (counted once their transaction committed), by source: xapi "
            "(a credential), lti, connector, objectives, ...",
            ["source"],
        )
        self.webhooks = Counter(
            "learnloop_webhook_deliveries",
            "Forge webhook deliveries, by connector kind and result (stored, ignored, "
            "duplicate, unverified, unknown_connector, conflict, rejected, error)",
            ["connector", "result"],
        )
        self.lti_launches = Counter(
            "learnloop_lti_launches",
            "LTI launches (POST /lti/launch), by result: ok, storage_check, or the error code",
            ["result"],
        )
        self.outbound = Counter(
            "learnloop_outbound_requests",
            "Outbound HTTP calls through the guard, by result: 2xx..5xx (the peer's status "
            "class), refused (an address inside), timeout, unreachable, too_large",
            ["result"],
        )
        self.jobs = Counter(
            "learnloop_queue_jobs_run",
            "Queue jobs run by the worker, by kind and result (done, retried, failed, superseded)",
            ["kind", "result"],
        )
        self.forwarded = Counter(
            "learnloop_forwarded_statements",
            "Statements handed to forwarding destinations, by result (delivered, failed)",
            ["result"],
        )
        self.webhook_events = Counter(
            "learnloop_webhook_events_sent",
            "Outbound webhook event attempts, by outcome (delivered, retrying, failed)",
            ["outcome"],
        )
        self.job_seconds = Histogram(
            "learnloop_queue_job_duration_seconds",
            "Time a queue job's handler ran, by kind",
            ["kind"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300),
        )


def metrics() -> Metrics:
    """The metric objects of this process, built on first use."""
    global _built
    if _built is None:
        with _lock:
            if _built is None:
                _built = Metrics()
    return _built


def source_of(principal: Any) -> str:
    """The ``source`` label of a writer: ``xapi`` for a credential, else the component's kind.

    Learnloop's components write as ``learnloop:<component>[:...]`` (``lrs.api``); only the
    component is kept, so a connector's id does not become a label value.
    """
    key = getattr(principal, "key", "") or ""
    if getattr(principal, "credential_id", 0) or not key.startswith("learnloop:"):
        return "xapi"
    return key.split(":")[1] or "xapi"


def safely(count: Callable[[Metrics], Any]) -> None:
    """Run ``count(metrics())``; a failure to count is logged, never raised into the work."""
    try:
        count(metrics())
    except Exception:
        log.exception("could not update a metric")


def count_statements_after_commit(session: Any, count: int, principal: Any) -> None:
    """Count ``count`` statements once ``session``'s write transaction has committed."""
    if count > 0:
        source = source_of(principal)
        after_commit(session, lambda: safely(lambda m: m.statements.labels(source).inc(count)))


def count_outbound(result: str) -> None:
    safely(lambda m: m.outbound.labels(result).inc())


def count_lti_launch(result: str) -> None:
    safely(lambda m: m.lti_launches.labels(result).inc())
