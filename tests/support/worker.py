"""The queue worker in tests: run it to the end of the queue, as a caught-up worker would be."""

import time

from learnloop.worker import Worker, WorkerSettings
from lrs.db import read_transaction
from lrs.sql import run


def drain(app, horizon_ms=1_000, **settings) -> int:
    """Run every job of the app's queue due now or within ``horizon_ms`` (statements jobs wait
    a moment so that batches join them); returns how many ran."""
    worker = Worker(app, WorkerSettings(**settings))
    sessions = app.extensions["lrs"].sessions
    clock = app.extensions["lrs"].clock
    ran = 0
    while True:
        ran += worker.drain()
        with read_transaction(sessions) as session:
            soon = run(
                session,
                "SELECT MIN(run_at_ms) FROM jobs WHERE state = 'pending' AND run_at_ms <= ?",
                [clock() + horizon_ms],
            ).scalar()
        if soon is None:
            return ran
        time.sleep(max(0.0, (soon - clock()) / 1000) + 0.005)
