"""An organisation in a fresh store per test: admin, two managers, their reports, a reviewer.

admin (no person)        maya (manager) ── ann, ben          nick (manager) ── cora
rita: reviewer granted on ann's review                         learner accounts for each
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest

from lrs import api
from lrs.auth import get_or_create_store
from lrs.db import write_transaction
from lrs.people.services import ensure_person
from objectives import accounts
from objectives.models import Review, ReviewCycle, ReviewGrant
from tests.support.worker import drain

CYCLE_START = dt.date(2026, 1, 1)
CYCLE_END = dt.date(2026, 6, 30)


@dataclass
class Org:
    app: object
    store_id: int
    people: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    reviews: dict = field(default_factory=dict)
    cycle_id: int = 0

    def client(self, who):
        return ApiClient(self.app, self.tokens[who])

    def write(self, statements, source="xapi"):
        """Store statements as a source would, then let the worker count them."""
        sessions = self.app.extensions["learnloop"].sessions
        with write_transaction(sessions) as session:
            principal = api.source_principal(self.store_id, source)
            ids = api.write_statements(session, principal, statements).ids
        drain(self.app)
        return ids

    def mail(self, who):
        return {"mbox": f"mailto:{who}@example.com"}


class ApiClient:
    """The /api as a signed-in account calls it, with a worker that keeps up beside the server."""

    def __init__(self, app, token):
        self.app = app
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path, **kw):
        return self.client.get("/api" + path, headers=self.headers, **kw)

    def post(self, path, json=None):
        response = self.client.post("/api" + path, headers=self.headers, json=json)
        drain(self.app)
        return response

    def patch(self, path, json=None):
        return self.client.patch("/api" + path, headers=self.headers, json=json)

    def put(self, path, json=None):
        return self.client.put("/api" + path, headers=self.headers, json=json)

    def delete(self, path):
        return self.client.delete("/api" + path, headers=self.headers)


@pytest.fixture
def org(app):
    sessions = app.extensions["learnloop"].sessions
    result = Org(app=app, store_id=0)
    with write_transaction(sessions) as session:
        store = get_or_create_store(session, f"org-{uuid.uuid4().hex[:10]}")
        result.store_id = store.id
        for who in ("maya", "ann", "ben", "nick", "cora", "rita"):
            person = ensure_person(
                session, store.id, {"mbox": f"mailto:{who}@example.com"}, name=who.title()
            )
            result.people[who] = person.id
            account = accounts.create_account(
                session, store.id, f"{who}@example.com", None, person_id=person.id
            )
            result.tokens[who] = accounts.issue_token(session, account)
        admin = accounts.create_account(session, store.id, "admin@example.com", None, is_admin=True)
        result.tokens["admin"] = accounts.issue_token(session, admin)
        for report, manager in (("ann", "maya"), ("ben", "maya"), ("cora", "nick")):
            accounts.set_manager(session, store.id, result.people[report], result.people[manager])
        cycle = ReviewCycle(
            store_id=store.id, name="2026 H1", starts_on=CYCLE_START, ends_on=CYCLE_END
        )
        session.add(cycle)
        session.flush()
        result.cycle_id = cycle.id
        for who in ("ann", "ben", "cora", "maya"):
            review = Review(store_id=store.id, cycle_id=cycle.id, person_id=result.people[who])
            session.add(review)
            session.flush()
            result.reviews[who] = review.id
        session.add(ReviewGrant(review_id=result.reviews["ann"], person_id=result.people["rita"]))
    return result
