"""A seeded organisation on SQLite for the fuzzers, and what the fuzzers send beyond the schema.

One app per test module (a file runs whole in one process, in order, so a fixed seed gives the
same requests every run): an admin with a bearer token, a manager and two reports, a cycle,
reviews with objectives, templates, real statements from the corpus for those people, and an
xAPI credential with every scope.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import string
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import strategies as st

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs import api
from lrs.auth import create_credential, get_or_create_store
from lrs.db import write_transaction
from lrs.people.services import ensure_person
from objectives import accounts
from objectives.models import Objective, ObjectiveTemplate, Review, ReviewCycle, ReviewGrant
from tests.fuzz.corpus import corpus_statements
from tests.support.worker import drain

PEOPLE = ("maya", "ann", "ben")
CRITERIA = [
    {"verbs": ["http://adlnet.gov/expapi/verbs/completed"], "min_count": 2},
    {"activity_prefix": "http://", "count": "activities", "min_count": 3},
]


@dataclass
class Seeded:
    """The fuzzers' organisation: who can sign in, and with what."""

    app: object
    store: str
    token: str
    key: str
    secret: str
    people: dict = field(default_factory=dict)

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Seeded:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'learnloop.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "public_url": "http://localhost"})
    store = f"fuzz-{uuid.uuid4().hex[:8]}"
    key, secret = "fuzz-key", "fuzz-secret-" + uuid.uuid4().hex
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        store_id = get_or_create_store(session, store).id
        create_credential(session, store, None, key, secret)
        people = {
            who: ensure_person(
                session, store_id, {"mbox": f"mailto:{who}@example.com"}, name=who.title()
            ).id
            for who in PEOPLE
        }
        for report in ("ann", "ben"):
            accounts.set_manager(session, store_id, people[report], people["maya"])
            accounts.create_account(
                session, store_id, f"{report}@example.com", None, person_id=people[report]
            )
        admin = accounts.create_account(session, store_id, "admin@example.com", None, is_admin=True)
        token = accounts.issue_token(session, admin)
        cycle = ReviewCycle(
            store_id=store_id,
            name="This year",
            starts_on=dt.date(2000, 1, 1),
            ends_on=dt.date(2099, 12, 31),
        )
        session.add(cycle)
        session.flush()
        for who in PEOPLE:
            review = Review(store_id=store_id, cycle_id=cycle.id, person_id=people[who])
            session.add(review)
            session.flush()
            for criterion in CRITERIA:
                criteria = json.dumps([criterion])
                session.add(
                    Objective(
                        store_id=store_id,
                        review_id=review.id,
                        title=f"{who}: {criterion}",
                        rule="all",
                        criteria=criteria,
                    )
                )
                session.add(
                    ObjectiveTemplate(store_id=store_id, title=who, rule="all", criteria=criteria)
                )
        session.add(ReviewGrant(review_id=review.id, person_id=people["maya"]))
        principal = api.source_principal(store_id, "xapi")
        statements = []
        for index, statement in enumerate(corpus_statements()[:60]):
            statement = dict(statement)
            statement.pop("id", None)
            statement["actor"] = {"mbox": f"mailto:{PEOPLE[index % 3]}@example.com"}
            statements.append(statement)
        api.write_statements(session, principal, statements)
    drain(app)
    yield Seeded(app, store, token, key, secret, people)
    app.extensions["learnloop"].engine.dispose()


# ---------------------------------------------------------------------------------------------
# Values the built-in format generators rarely reach: the ends of the calendar, odd offsets,
# IRIs that are not https://host.
# ---------------------------------------------------------------------------------------------

EDGE_DATES = ["0001-01-01", "9999-12-31", "1969-12-31", "1970-01-01", "2000-02-29", "2038-01-19"]
EDGE_DATE_TIMES = [
    "9999-12-31T23:59:59.999-23:59",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:08.123456+00:00",
]
EDGE_IRIS = [
    "urn:x-fuzz:" + "a" * 2000,
    "http://例え.テスト/パス?q=値#断片",
    "http://example.com/%00",
    "tag:example.com,2024:x",
    "mailto:someone@example.com",
    "http://[::1]:8080/a/../b",
]


def edge_biased(edges: list[str], usual: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Half the draws from the edges, half as usual."""
    return st.one_of(st.sampled_from(edges), usual)


def _date_times() -> st.SearchStrategy[str]:
    offsets = st.one_of(
        st.just("Z"),
        st.builds(
            "{}{:02d}:{:02d}".format,
            st.sampled_from("+-"),
            st.integers(0, 23),
            st.integers(0, 59),
        ),
    )
    usual = st.builds(
        "{}T{}{}".format,
        st.dates().map(str),
        st.times().map(lambda t: t.isoformat()),
        offsets,
    )
    return edge_biased(EDGE_DATE_TIMES, usual)


def _iris() -> st.SearchStrategy[str]:
    host = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
    return edge_biased(EDGE_IRIS, host.map("https://{}.example/".format))


FORMATS = {
    "date": edge_biased(EDGE_DATES, st.dates().map(str)),
    "date-time": _date_times(),
    "iri": _iris(),
}


@pytest.fixture(scope="module")
def edge_formats():
    """Schemathesis generates ``date``, ``date-time`` and ``iri`` strings from ``FORMATS``."""
    import schemathesis
    from schemathesis.specs.openapi.formats import unregister_string_format

    for name, strategy in FORMATS.items():
        schemathesis.openapi.format(name, strategy)
    yield
    for name in FORMATS:
        unregister_string_format(name)
