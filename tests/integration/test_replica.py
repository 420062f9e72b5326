"""Statement queries from a real PostgreSQL streaming replica (issue 18, part 3).

The suite's throw-away PostgreSQL is the primary; ``pg_basebackup`` makes a standby that
streams from it (``tests/support/replica.py``). Learnloop writes to the primary and lists
statements from the replica. Pausing the replica's replay shows the two promises of
``lrs.replica``: ``X-Experience-API-Consistent-Through`` says what the replica has applied,
and a statement read back by id is always found (read your writes).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database
from tests.conftest import XapiClient, make_credential
from tests.support.replica import StreamingReplica


@pytest.fixture(scope="module")
def replica(postgres_server):
    with StreamingReplica(postgres_server) as standby:
        yield standby


@pytest.fixture(scope="module")
def app(postgres_url, replica):
    upgrade_database(postgres_url)
    database = postgres_url.split("/")[-1].split("?")[0]
    replica.wait_for_database(database)
    replica.caught_up()
    made = create_app({"database_url": postgres_url, "replica_url": replica.url_for(database)})
    yield made
    services = made.extensions["learnloop"]
    services.engine.dispose()
    services.replica_sessions.kw["bind"].dispose()


@pytest.fixture
def lrs(app):
    _, key, secret = make_credential(app)
    return XapiClient(app, key, secret)


def statement(actor: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.com/courses/replicated"},
    }


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def listed(lrs, actor: str):
    answer = lrs.get("/statements", query_string={"agent": json.dumps(
        {"mbox": f"mailto:{actor}@example.com"})})  # fmt: skip
    assert answer.status_code == 200, answer.get_data(as_text=True)
    ids = [s["id"] for s in answer.get_json()["statements"]]
    return ids, when(answer.headers["X-Experience-API-Consistent-Through"])


def test_a_lagging_replica_says_how_far_it_is_and_a_writer_still_reads_its_statement(lrs, replica):
    actor = "lag-" + uuid.uuid4().hex[:6]
    first = statement(actor)
    assert lrs.post("/statements", json=first).status_code == 200
    replica.caught_up()
    replica.pause()
    try:
        second = statement(actor)
        assert lrs.post("/statements", json=second).status_code == 200
        # 2.1.3 (statementId): the writer reads its statement back at once, from the primary.
        by_id = lrs.get("/statements", query_string={"statementId": second["id"]})
        assert by_id.status_code == 200
        stored = when(by_id.get_json()["stored"])
        # The list comes from the replica, which has not applied the second statement, and
        # its Consistent-Through is before the second statement was stored.
        ids, through = listed(lrs, actor)
        assert ids == [first["id"]]
        assert through < stored
    finally:
        replica.resume()
    replica.caught_up()
    ids, through = listed(lrs, actor)
    assert ids == [second["id"], first["id"]]
    assert through >= stored


def test_an_unknown_statement_is_still_a_404_with_a_replica(lrs):
    missing = lrs.get("/statements", query_string={"statementId": str(uuid.uuid4())})
    assert missing.status_code == 404
    assert missing.get_json()["message"].startswith("no statement with statementId")


def test_the_list_is_read_from_the_replica(lrs, replica, app):
    """With replay paused, nothing written meanwhile is listed, though the primary has it."""
    actor = "replica-" + uuid.uuid4().hex[:6]
    replica.pause()
    try:
        for _ in range(3):
            assert lrs.post("/statements", json=statement(actor)).status_code == 200
        ids, _ = listed(lrs, actor)
        assert ids == []
    finally:
        replica.resume()
    replica.caught_up()
    ids, _ = listed(lrs, actor)
    assert len(ids) == 3


def test_a_replica_url_that_is_not_postgresql_is_refused():
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="LEARNLOOP_REPLICA_URL"):
        create_app({"replica_url": "sqlite:////tmp/replica.sqlite3"})
