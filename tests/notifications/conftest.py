"""A team in a fresh store per test, whose review cycle is open now, and a real SMTP server.

maya (manager) ── ann, ben, at an e-mail domain of their own (the stores share one server).
``team.smtp`` is an aiosmtpd server the app sends to (``LEARNLOOP_SMTP_*`` as an operator
would set them, security ``none``: a local relay).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest

from lrs import api
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.forwarding.settings import EXTENSION as FORWARDING
from lrs.forwarding.settings import ForwardingConfig
from lrs.people.services import ensure_person
from notifications.models import Notification
from notifications.settings import EXTENSION as MAIL
from notifications.settings import MailConfig
from notifications.tasks import MAILER
from objectives import accounts
from objectives.models import ReviewCycle
from tests.notifications.smtp import SmtpServer
from tests.objectives.conftest import ApiClient
from tests.support.worker import drain

FROM = "Learnloop <learnloop@acme.test>"


@dataclass
class Team:
    app: object
    store_id: int
    smtp: SmtpServer
    people: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)
    cycle_id: int = 0
    domain: str = "acme.test"

    def address(self, who):
        return f"{who}@{self.domain}"

    def client(self, who):
        return ApiClient(self.app, self.tokens[who])

    def write(self, statements):
        with write_transaction(self.app.extensions["learnloop"].sessions) as session:
            api.write_statements(session, api.source_principal(self.store_id, "xapi"), statements)
        drain(self.app)

    def inbox(self, who):
        with read_transaction(self.app.extensions["learnloop"].sessions) as session:
            rows = session.query(Notification).filter_by(person_id=self.people[who]).all()
            session.expunge_all()
            return sorted(rows, key=lambda n: n.id)

    def review(self, who):
        made = self.client("maya").post(
            "/reviews", json={"cycle_id": self.cycle_id, "person_id": self.people[who]}
        )
        assert made.status_code in (200, 201), made.get_json()
        return made.get_json()["id"]


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail(app, smtp):
    """E-mail set up (and chat allowed to a loopback receiver, as forwarding tests allow it)."""
    before = app.extensions.get(MAIL), app.extensions.get(FORWARDING)
    app.extensions[MAIL] = MailConfig.from_env(
        {},
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        from_address=FROM,
    )
    app.extensions[FORWARDING] = ForwardingConfig(allow_http_loopback=True, read_timeout=5)
    smtp.mailbox.messages.clear()
    yield app.extensions[MAIL]
    app.extensions[MAIL], app.extensions[FORWARDING] = before
    mailer = app.extensions.pop(MAILER, None)
    if mailer is not None:
        mailer.close()


@pytest.fixture
def team(app, smtp, mail):
    sessions = app.extensions["learnloop"].sessions
    today = dt.datetime.now(dt.UTC).date()
    result = Team(app=app, store_id=0, smtp=smtp, domain=f"{uuid.uuid4().hex[:8]}.test")
    with write_transaction(sessions) as session:
        store = get_or_create_store(session, f"team-{uuid.uuid4().hex[:10]}")
        result.store_id = store.id
        for who in ("maya", "ann", "ben"):
            person = ensure_person(
                session, store.id, {"mbox": f"mailto:{result.address(who)}"}, name=who.title()
            )
            result.people[who] = person.id
            account = accounts.create_account(
                session, store.id, result.address(who), None, person_id=person.id
            )
            result.accounts[who] = account.id
            result.tokens[who] = accounts.issue_token(session, account)
        for report in ("ann", "ben"):
            accounts.set_manager(session, store.id, result.people[report], result.people["maya"])
        cycle = ReviewCycle(
            store_id=store.id,
            name="Winter",
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=3),
        )
        session.add(cycle)
        session.flush()
        result.cycle_id = cycle.id
    return result
