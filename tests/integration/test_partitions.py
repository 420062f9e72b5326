"""Statements partitioned by month on PostgreSQL (lrs.partitions, migration 0025, issue 18).

Through the public interfaces: statements are written and read over HTTP, the upgrade is the
real migration, retention is the worker's job. What PostgreSQL holds is read from its catalogue,
as an operator would with psql.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import text

from learnloop import create_app
from learnloop.cli import main, upgrade_database
from learnloop.schema import alembic_config
from learnloop.worker import Worker
from lrs.db import write_transaction
from lrs.partitions import ensure, month_of
from lrs.statements.write import now_ms
from tests.conftest import XapiClient, make_credential
from tests.support.databases import fresh_database
from tests.support.worker import drain

VERB = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def ms(year: int, month: int, day: int = 15) -> int:
    return int(dt.datetime(year, month, day, 12, tzinfo=dt.UTC).timestamp() * 1000)


def statement(n: int, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:learner{n % 2}@example.com"},
        "verb": {"id": VERB},
        "object": {"id": f"http://example.com/activities/{n}"},
        **extra,
    }


@pytest.fixture
def database(request, tmp_path):
    with fresh_database(request, request.getfixturevalue("postgres_url"), tmp_path) as url:
        yield url


def app_on(url: str):
    return create_app({"database_url": url, "public_url": "http://localhost"})


def post_at(app, client: XapiClient, when_ms: int, statements: list[dict]) -> None:
    app.extensions["learnloop"].clock = lambda: when_ms
    response = client.post("/statements", json=statements)
    assert response.status_code == 200, response.get_json()


def rows_per_partition(app) -> dict[str, int]:
    with app.extensions["learnloop"].engine.connect() as connection:
        names = connection.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'statements'"
            )
        ).scalars()
        return {
            name: connection.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar()  # noqa: S608
            for name in names
        }


def all_ids(client: XapiClient, **params) -> list[str]:
    ids, url = [], "/statements?" + "&".join(f"{k}={v}" for k, v in params.items())
    while url:
        page = client.get(url).get_json()
        ids += [s["id"] for s in page["statements"]]
        url = (page.get("more") or "").removeprefix("/xapi")
    return ids


def test_the_upgrade_moves_stored_statements_into_months_and_reads_do_not_change(database):
    command.upgrade(alembic_config(database), "0024")
    app = app_on(database)
    _, key, secret = make_credential(app)
    client = XapiClient(app, key, secret)
    january = [statement(n) for n in range(3)]
    post_at(app, client, ms(2026, 1), january)
    post_at(app, client, ms(2026, 2), [statement(n) for n in range(3, 5)])
    before = all_ids(client, limit=2)
    by_agent = all_ids(client, agent='{"mbox":"mailto:learner0@example.com"}', limit=1)
    app.extensions["learnloop"].engine.dispose()

    upgrade_database(database)
    app = app_on(database)
    client = XapiClient(app, key, secret)
    partitions = rows_per_partition(app)
    assert partitions["statements_y2026m01"] == 3
    assert partitions["statements_y2026m02"] == 2
    assert partitions["statements_default"] == 0
    assert all_ids(client, limit=2) == before
    assert all_ids(client, agent='{"mbox":"mailto:learner0@example.com"}', limit=1) == by_agent
    # Communication 2.2.s4: the same id again with other content is a conflict, after the move
    # as before, although no UNIQUE constraint spans the months any more.
    changed = {**january[0], "verb": {"id": VOIDED.replace("voided", "attempted")}}
    assert client.put(f"/statements?statementId={changed['id']}", json=changed).status_code == 409
    assert (
        client.put(f"/statements?statementId={january[1]['id']}", json=january[1]).status_code
        == 204
    )
    app.extensions["learnloop"].engine.dispose()


def test_a_statement_stored_beyond_the_months_made_is_moved_into_its_own_when_it_is_made(database):
    upgrade_database(database)
    app = app_on(database)
    client = XapiClient(app, *make_credential(app)[1:])
    later = ms(2031, 7)
    far = statement(1)
    post_at(app, client, later, [far])
    assert rows_per_partition(app)["statements_default"] == 1

    with write_transaction(app.extensions["learnloop"].sessions) as session:
        made = ensure(session, later, ahead=1)
    assert [m.label() for m in made] == ["2031-07", "2031-08"]
    partitions = rows_per_partition(app)
    assert partitions["statements_default"] == 0
    assert partitions["statements_y2031m07"] == 1
    assert client.get(f"/statements?statementId={far['id']}").get_json()["id"] == far["id"]
    assert all_ids(client, activity="http://example.com/activities/1") == [far["id"]]
    app.extensions["learnloop"].engine.dispose()


def test_the_worker_keeps_the_coming_months_made(database):
    upgrade_database(database)
    app = app_on(database)
    app.extensions["learnloop"].clock = lambda: ms(2032, 11)
    Worker(app).maintain()
    made = set(rows_per_partition(app))
    assert {"statements_y2032m11", "statements_y2033m02"} <= made
    app.extensions["learnloop"].engine.dispose()


def test_retention_drops_an_expired_month_whole_and_what_it_voided_is_voided_no_more(database):
    upgrade_database(database)
    app = app_on(database)
    store, key, secret = make_credential(app)
    client = XapiClient(app, key, secret)
    day = 86_400_000
    kept = statement(1)
    post_at(app, client, now_ms() - 30 * day, [kept])
    voiding = statement(
        2, verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": kept["id"]}
    )
    old = now_ms() - 300 * day
    post_at(app, client, old, [voiding, statement(3)])
    assert client.get(f"/statements?voidedStatementId={kept['id']}").status_code == 200
    app.extensions["learnloop"].clock = now_ms

    result = CliRunner().invoke(
        main,
        ["retention", "set", "--store", store, "--months", "6", "--drop-aggregates"],
        env={"LEARNLOOP_DATABASE_URL": database},
    )
    assert result.exit_code == 0, result.output
    drain(app)

    partitions = rows_per_partition(app)
    assert month_of(old).name("statements") not in partitions  # dropped, not emptied
    ahead = month_of(now_ms()).next()  # made ahead, empty, and no policy reaches it
    assert ahead.name("statements") in partitions
    assert all_ids(client) == [kept["id"]]  # voided no more: its voiding statement is gone
    assert client.get(f"/statements?statementId={voiding['id']}").status_code == 404
    app.extensions["learnloop"].engine.dispose()
