"""The delivery log is kept for a while, not for ever: the worker's hourly upkeep deletes the
attempts older than ``LEARNLOOP_DELIVERY_LOG_KEEP_DAYS`` (90 days by default), a batch at a
time, and leaves the rest — and the pages' and CLI's view of it — as it was."""

import uuid

import pytest

from learnloop.worker import Worker
from lrs import deliveries
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.errors import ConfigError

DAY = 86_400_000
NOW = 1_796_000_000_000  # 2026-11-30


def attempt(outcome="delivered"):
    return deliveries.Attempt(outcome=outcome, status=200, attempt=1, items=1, message="ok")


def log_of(app, store_id):
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        rows = deliveries.recent(session, store_id, deliveries.WEBHOOK, None, limit=1000)
        return sorted(row.occurred_ms for row in rows)


@pytest.fixture
def store_id(app):
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        store = get_or_create_store(session, f"log-{uuid.uuid4().hex[:8]}")
        for days_ago in (400, 120, 91, 89, 1, 0):
            deliveries.record(
                session, store.id, deliveries.WEBHOOK, 1, NOW - days_ago * DAY, attempt()
            )
        return store.id


def test_the_upkeep_deletes_attempts_older_than_90_days_and_keeps_the_rest(app, store_id):
    app.extensions["learnloop"].clock = lambda: NOW
    Worker(app).maintain()
    assert log_of(app, store_id) == [NOW - 89 * DAY, NOW - DAY, NOW]


def test_the_keeping_time_is_set_by_the_environment_and_a_bad_one_is_named(
    app, store_id, monkeypatch
):
    monkeypatch.setenv("LEARNLOOP_DELIVERY_LOG_KEEP_DAYS", "2")
    app.extensions["learnloop"].clock = lambda: NOW
    Worker(app).maintain()
    assert log_of(app, store_id) == [NOW - DAY, NOW]
    monkeypatch.setenv("LEARNLOOP_DELIVERY_LOG_KEEP_DAYS", "a week")
    with pytest.raises(ConfigError, match="LEARNLOOP_DELIVERY_LOG_KEEP_DAYS"):
        Worker(app)


def test_a_long_backlog_goes_a_batch_at_a_time_oldest_first(app, store_id):
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        assert deliveries.prune(session, NOW, keep_days=90, batch=2) == 2
    assert log_of(app, store_id) == [NOW - 91 * DAY, NOW - 89 * DAY, NOW - DAY, NOW]
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        assert deliveries.prune(session, NOW, keep_days=90, batch=2) == 1
        assert deliveries.prune(session, NOW, keep_days=90, batch=2) == 0
