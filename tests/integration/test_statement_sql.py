"""The pages of GET /statements read by driver SQL (``read.statement_sql``), the export by the
SQLAlchemy SELECT (``read.statement_select``): for every shape of query both give the same rows,
in the same order, on SQLite and PostgreSQL."""

import itertools
import json

import pytest

from lrs.core.query import Term, decode_more, encode_more, parse_statement_query
from lrs.db import read_transaction
from lrs.sql import run
from lrs.statements.read import statement_select, statement_sql

VERBS = ["http://example.com/verbs/a", "http://example.com/verbs/b"]


@pytest.fixture(scope="module")
def loaded(app):
    from tests.conftest import XapiClient, make_credential

    store, key, secret = make_credential(app)
    client = XapiClient(app, key, secret)
    for batch in range(6):
        statements = [
            {
                "actor": {"mbox": f"mailto:l{n % 3}@example.com"},
                "verb": {"id": VERBS[n % 2]},
                "object": {"id": f"http://example.com/a/{n % 4}"},
                "context": {"contextActivities": {"parent": [{"id": "http://example.com/c"}]}},
            }
            for n in range(batch, batch + 7)
        ]
        assert client.post("/statements", json=statements).status_code == 200
    voided = client.get("/statements", query_string={"limit": 1}).get_json()["statements"][0]
    assert client.post("/statements", json={
        "actor": {"mbox": "mailto:l0@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": voided["id"]},
    }).status_code == 200  # fmt: skip
    from sqlalchemy import select

    from lrs.models import Store

    with read_transaction(app.extensions["learnloop"].sessions) as session:
        store_id = session.scalar(select(Store.id).where(Store.name == store))
    return store_id


QUERIES = [
    {},
    {"verb": VERBS[0]},
    {"agent": json.dumps({"mbox": "mailto:l1@example.com"})},
    {"agent": json.dumps({"mbox": "mailto:l1@example.com"}), "verb": VERBS[1]},
    {"activity": "http://example.com/c", "related_activities": "true"},
    {"activity": "http://example.com/a/2", "verb": VERBS[0], "ascending": "true"},
    {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: ",".join(sorted(p)) or "all")
def test_the_driver_sql_reads_what_the_select_reads(app, loaded, params):
    sessions = app.extensions["learnloop"].sessions
    query = parse_statement_query({**params, "limit": "4"}, "2.0.0")
    extras = [[], [Term(key=123456789, direct=True)]]
    with read_transaction(sessions) as session:
        dialect = session.get_bind().dialect.name
        for extra in extras[:1]:
            for page in itertools.count():
                sql, values = statement_sql(dialect, loaded, query, extra)
                ours = run(session, sql + " LIMIT ?", [*values, 5]).all()
                theirs = session.execute(statement_select(loaded, query, extra).limit(5)).all()
                assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
                if len(ours) < 5 or page > 10:
                    break
                last = ours[3]
                query = decode_more(encode_more(query, (last.stored_ms, last.seq)), "2.0.0")
        sql, values = statement_sql(dialect, loaded, query, extras[1])
        assert run(session, sql + " LIMIT ?", [*values, 5]).all() == []
