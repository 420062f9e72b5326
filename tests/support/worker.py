"""The queue worker in tests: run it to the end of the queue, as a caught-up worker would be."""

from learnloop.worker import Worker, WorkerSettings


def drain(app, **settings) -> int:
    """Run every due job of the app's queue now; returns how many ran."""
    return Worker(app, WorkerSettings(**settings)).drain()
