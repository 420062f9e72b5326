"""The worker: drains the durable queue (``lrs.queue``) so that work follows events by itself.

Each job kind has one handler, registered by the app factory (``TASKS``): the handler runs in
the app's context, like a request, and either returns (the job is done), raises
``JobFailed`` (retried with backoff, or failed at once when permanent), or raises anything
else (logged with its traceback, retried). ``learnloop worker`` runs one; ``serve`` and
``demo`` run one beside the web workers unless told ``--no-worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask

from lrs import deliveries, metrics, partitions, queue
from lrs.db import write_transaction
from lrs.runtime import lrs_runtime

log = logging.getLogger("learnloop.worker")

#: Where the app factory puts ``{kind: handler}``.
TASKS = "learnloop.tasks"
#: How often a worker does its upkeep (``Worker.maintain``).
MAINTENANCE_SECONDS = 3600.0


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker polls, leases and retries (``learnloop worker`` options)."""

    poll_seconds: float = 0.2
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_base_ms: int = queue.BACKOFF_BASE_MS


class Worker:
    """Claims due jobs one at a time and runs their handlers."""

    def __init__(self, app: Flask, settings: WorkerSettings | None = None) -> None:
        self.app = app
        self.settings = settings or WorkerSettings()
        self.handlers = app.extensions[TASKS]
        self.stopping = threading.Event()
        #: Read at start, so a value that does not parse stops the worker with its name.
        self.log_keep_days = deliveries.log_settings().keep_days

    def run_one(self) -> bool:
        """Claim and run one due job; False when none is due."""
        with self.app.app_context():
            runtime = lrs_runtime()
            job = queue.claim(
                runtime.sessions,
                runtime.clock(),
                int(self.settings.lease_seconds * 1000),
                tuple(self.handlers),
            )
            if job is None:
                return False
            started = time.perf_counter()
            try:
                self.handlers[job.kind](job)
            except queue.JobFailed as failure:
                result = self._retry(runtime, job, failure.message, failure.permanent)
            except Exception as error:  # a bug or an outage: keep the job, say what happened
                log.exception("job %s (%s) raised", job.id, job.kind)
                result = self._retry(runtime, job, f"internal error: {type(error).__name__}", False)
            else:
                queue.finish(runtime.sessions, job)
                log.debug("job %s (%s) done", job.id, job.kind)
                result = "done"
            _count(job.kind, RESULTS.get(result, result), time.perf_counter() - started)
            return True

    def _retry(self, runtime, job: queue.ClaimedJob, message: str, permanent: bool) -> str:
        state = queue.retry(
            runtime.sessions,
            job,
            message,
            runtime.clock(),
            max_attempts=self.settings.max_attempts,
            base_ms=self.settings.backoff_base_ms,
            permanent=permanent,
        )
        log.warning(
            "job %s (%s) attempt %s: %s -> %s", job.id, job.kind, job.attempts, message, state
        )
        return state

    def drain(self, limit: int = 1_000_000) -> int:
        """Run due jobs until none is left (or ``limit``); returns how many ran."""
        done = 0
        while done < limit and self.run_one():
            done += 1
        return done

    def maintain(self) -> None:
        """Upkeep that no event triggers.

        PostgreSQL's statement partitions for coming months, and the delivery log's attempts
        past their keeping time.
        """
        keep_days = self.log_keep_days
        with self.app.app_context():
            runtime = lrs_runtime()
            with write_transaction(runtime.sessions) as session:
                made = partitions.ensure(session, runtime.clock())
            with write_transaction(runtime.sessions) as session:
                pruned = deliveries.prune(session, runtime.clock(), keep_days)
        if made:
            log.info("made statement partitions for %s", ", ".join(m.label() for m in made))
        if pruned:
            log.info("deleted %d delivery log entries older than %d days", pruned, keep_days)

    def run_forever(self) -> None:
        """Run until ``stop()``: work while jobs are due, poll while idle, upkeep hourly."""
        log.info("worker started")
        next_upkeep = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() >= next_upkeep:
                    next_upkeep = time.monotonic() + MAINTENANCE_SECONDS
                    self.maintain()
                busy = self.run_one()
            except Exception:  # the database went away: wait and try again, never die
                log.exception("worker could not reach the queue")
                busy = False
                self.stopping.wait(min(5.0, self.settings.poll_seconds * 10))
            if not busy:
                self.stopping.wait(self.settings.poll_seconds)
        log.info("worker stopped")

    def stop(self) -> None:
        self.stopping.set()


#: A job's end as the ``learnloop_queue_jobs_run_total`` metric names it.
RESULTS = {"pending": "retried"}


def _count(kind: str, result: str, seconds: float) -> None:
    def count(m) -> None:
        m.jobs.labels(kind, result).inc()
        m.job_seconds.labels(kind).observe(seconds)

    metrics.safely(count)


def wait_until_idle(app: Flask, timeout: float = 10.0, horizon_ms: int = 1_000) -> bool:
    """True once no job is running or due within ``horizon_ms`` (a worker must be running).

    Jobs retried later (backoff) do not count. False on timeout.
    """
    from lrs.db import read_transaction
    from lrs.sql import run

    deadline = time.monotonic() + timeout
    with app.app_context():
        runtime = lrs_runtime()
        while time.monotonic() < deadline:
            with read_transaction(runtime.sessions) as session:
                left = run(
                    session,
                    "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR "
                    "(state = 'pending' AND run_at_ms <= ?)",
                    [runtime.clock() + horizon_ms],
                ).scalar()
            if not left:
                return True
            time.sleep(0.05)
    return False
