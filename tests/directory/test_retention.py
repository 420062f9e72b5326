"""Retention (issue 17): statements older than a store's policy go, by the worker, in batches.

A controlled clock: statements are stored "eight months ago" and "now", the policy keeps six
months. How many would go is said before the policy is saved; the worker deletes them in
batches (each its own transaction) and schedules its next run a day later; with "keep
aggregates" the learning facts (progress) stay. SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
import uuid

import pytest
from click.testing import CliRunner

from directory.governance import retention
from learnloop.cli import main
from lrs import vocabulary as v
from lrs.auth import Authenticator
from lrs.db import read_transaction, write_transaction
from lrs.sql import run
from tests.conftest import XapiClient, make_credential
from tests.support.worker import drain

MONTH_MS = 31 * 24 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000


class Clock:
    """Real time plus an offset the test moves (the worker's polling needs time to pass)."""

    def __init__(self) -> None:
        self.offset = 0

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset


@pytest.fixture
def clock(app, monkeypatch):
    fake = Clock()
    monkeypatch.setattr(app.extensions["learnloop"], "clock", fake)
    return fake


class Store:
    def __init__(self, app, clock):
        self.app, self.clock = app, clock
        self.sessions = app.extensions["learnloop"].sessions
        self.name, key, secret = make_credential(app)
        self.xapi = XapiClient(app, key, secret)
        with read_transaction(self.sessions) as session:
            self.id = (
                Authenticator().authenticate(session, self.xapi.headers()["Authorization"]).store_id
            )

    def post(self, count: int, actor: dict | None = None) -> list[str]:
        ids = []
        for _ in range(count):
            body = {
                "id": str(uuid.uuid4()),
                "actor": actor or {"mbox": f"mailto:l-{uuid.uuid4().hex[:6]}@example.com"},
                "verb": {"id": v.COMPLETED},
                "object": {"id": "https://courses.example.com/retention"},
            }
            assert self.xapi.post("/statements", json=body).status_code == 200
            ids.append(body["id"])
        return ids

    def count(self, table: str) -> int:
        with read_transaction(self.sessions) as session:
            return run(
                session, f"SELECT COUNT(*) FROM {table} WHERE store_id = ?", [self.id]
            ).scalar()

    def record_total(self) -> int:
        """Lena's learning events as her learner record (GET /api/people/<id>/record) counts."""
        response = self.app.test_client().get(
            f"/api/people/{self.lena}/record", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["total"]

    def set_policy(self, months: int, keep_aggregates: bool = True) -> int:
        with write_transaction(self.sessions) as session:
            return retention.set_policy(session, self.id, months, keep_aggregates, self.clock())

    def next_run_ms(self) -> int | None:
        with read_transaction(self.sessions) as session:
            return run(
                session,
                "SELECT run_at_ms FROM jobs WHERE kind = 'retention' AND key = ? "
                "AND state = 'pending'",
                [f"retention:{self.id}"],
            ).scalar()


LENA = {"mbox": "mailto:lena@example.com"}


@pytest.fixture
def store(app, clock) -> Store:
    from lrs.people.services import ensure_person
    from objectives import accounts

    s = Store(app, clock)
    with write_transaction(s.sessions) as session:
        s.lena = ensure_person(session, s.id, LENA, name="Lena").id
        admin = accounts.create_account(
            session, s.id, f"admin-{uuid.uuid4().hex[:6]}@example.com", None, is_admin=True
        )
        s.token = accounts.issue_token(session, admin)
    clock.offset = -8 * MONTH_MS
    s.old = s.post(3, LENA)
    clock.offset = 0
    s.new = s.post(2)
    drain(app)  # the facts projection has counted all five
    return s


def test_the_count_of_what_would_go_comes_first(store):
    with read_transaction(store.sessions) as session:
        assert retention.count_expiring(session, store.id, 6, True, store.clock()) == 3
        assert retention.count_expiring(session, store.id, 12, True, store.clock()) == 0
    assert store.count("statements") == 5  # counting deletes nothing


def test_the_worker_deletes_expired_statements_in_batches_and_keeps_aggregates(store, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)  # three statements: two batches
    assert store.record_total() == 3
    assert store.set_policy(6) == 3
    drain(store.app)
    assert store.count("statements") == 2
    assert store.count("learning_facts") == 5  # progress and counts stay
    assert store.record_total() == 3  # her learner record still counts what she did
    for statement_id in store.old:
        gone = store.xapi.get(f"/statements?statementId={statement_id}")
        assert gone.status_code == 404
    listed = store.xapi.get("/statements").get_json()["statements"]
    assert {s["id"] for s in listed} == set(store.new)
    with read_transaction(store.sessions) as session:
        policy = retention.get_policy(session, store.id)
    assert policy.last_deleted == 3 and policy.last_run_ms is not None
    # the next run is a day later, and it deletes what has aged past the policy by then
    assert store.next_run_ms() - store.clock() > DAY_MS - 60_000
    store.clock.offset = 7 * MONTH_MS
    drain(store.app)
    assert store.count("statements") == 0
    assert store.count("statement_index") == 0  # every index row went by its key
    assert store.count("learning_facts") == 5
    assert store.next_run_ms() > store.clock()  # and it keeps going


def test_without_aggregates_the_facts_go_with_the_statements(store):
    assert store.set_policy(6, keep_aggregates=False) == 3
    drain(store.app)
    assert store.count("statements") == 2 and store.count("learning_facts") == 2
    assert store.record_total() == 0


def test_statements_not_counted_yet_wait_when_aggregates_are_kept(app, clock):
    s = Store(app, clock)
    clock.offset = -8 * MONTH_MS
    s.post(2)
    clock.offset = 0
    with read_transaction(s.sessions) as session:  # before the worker projected them
        assert retention.count_expiring(session, s.id, 6, True, clock()) == 0
        assert retention.count_expiring(session, s.id, 6, False, clock()) == 2
    drain(app)


def test_removing_the_policy_ends_the_schedule(store):
    store.set_policy(6)
    drain(store.app)
    with write_transaction(store.sessions) as session:
        retention.clear_policy(session, store.id, store.clock())
    store.clock.offset = 2 * DAY_MS + 7 * MONTH_MS
    drain(store.app)
    assert store.count("statements") == 2  # the run found no policy and left no next run
    assert store.next_run_ms() is None


def test_the_commands_show_set_and_clear(store, backend):
    runner = CliRunner()
    env = {"LEARNLOOP_DATABASE_URL": backend}

    def cli(*args):
        result = runner.invoke(main, ["retention", *args, "--store", store.name], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "kept for ever" in cli("show")
    dry = cli("set", "--months", "6", "--dry-run")
    assert "3 statements older than 6 months would be deleted" in dry
    assert store.count("statements") == 5
    assert "3 statements are due" in cli("set", "--months", "6")
    shown = cli("show")
    assert "kept 6 months; aggregates kept" in shown and "next run 20" in shown
    assert "kept for ever" in cli("clear")


def test_the_admin_page_previews_then_saves(store):
    from objectives import accounts

    with write_transaction(store.sessions) as session:
        admin = accounts.create_account(
            session, store.id, f"admin-{uuid.uuid4().hex[:6]}@example.com", None, is_admin=True
        )
        learner = accounts.create_account(
            session, store.id, f"l-{uuid.uuid4().hex[:6]}@example.com", None
        )
    client = store.app.test_client()
    with client.session_transaction() as cookie:
        cookie.update({"account_id": admin.id, "epoch": 0, "at": int(time.time()), "csrf": "t"})
    page = client.get("/admin/retention")
    assert page.status_code == 200 and "statements are kept for ever" in page.get_data(True)
    form = {"csrf_token": "t", "keep_months": "6", "keep_aggregates": "on"}
    preview = client.post("/admin/retention", data={**form, "action": "preview"})
    assert preview.status_code == 302
    shown = client.get("/admin/retention").get_data(as_text=True)
    assert "would delete <strong>3</strong> statements now" in shown
    with read_transaction(store.sessions) as session:
        assert retention.get_policy(session, store.id) is None  # a preview saves nothing
    client.post("/admin/retention", data={**form, "action": "save"})
    saved = client.get("/admin/retention").get_data(as_text=True)
    assert "kept <strong>6 months</strong>" in saved and "3 statements are due" in saved
    assert "next run 20" in saved
    refused = client.post("/admin/retention", data={**form, "keep_months": "0", "action": "save"})
    assert refused.status_code == 302
    assert "from 1 to 1200" in client.get("/admin/retention").get_data(as_text=True)
    other = store.app.test_client()
    with other.session_transaction() as cookie:
        cookie.update({"account_id": learner.id, "epoch": 0, "at": int(time.time()), "csrf": "t"})
    assert other.get("/admin/retention").status_code == 403
    assert other.post("/admin/retention", data={**form, "action": "save"}).status_code == 403
