"""The running tool as its users reach it, for the tests of grades that follow statements.

An admin on ``/api``, an xAPI client on ``/xapi``, learners and an instructor in the
``lti1p3platform``-based LMS; helpers to place items, open reviews and watch the gradebook.
"""

import datetime as dt
import time
import uuid

import requests

from lrs.db import write_transaction
from lrs.vocabulary import EXPERIENCED
from objectives import accounts
from tests.conftest import make_credential
from tests.lti.platform import LEARNER, User, form_of
from tests.lti.support import browser

PASSWORD = "correct-horse-battery-staple"
DEADLINE = 2.0  # seconds from the statement's commit to the score in the gradebook


class Tool:
    """The running tool as its users reach it: the LMS, an admin on /api, a client on /xapi."""

    def __init__(self, app, base, lms):
        self.app, self.base, self.lms = app, base, lms
        store, self.key, self.secret = make_credential(app)
        with write_transaction(app.extensions["lrs"].sessions) as session:
            from lrs.auth import get_or_create_store

            store_row = get_or_create_store(session, store)
            self.store_id = store_row.id
            accounts.create_account(
                session, store_row.id, f"admin-{store}@example.com", PASSWORD, is_admin=True
            )
        token = requests.post(
            base + "/api/tokens",
            json={"store": store, "email": f"admin-{store}@example.com", "password": PASSWORD},
            timeout=10,
        )
        assert token.status_code == 201, token.text
        self.api_headers = {"Authorization": "Bearer " + token.json()["token"]}
        registered = requests.post(
            base + "/api/admin/lti/registrations",
            json=lms.registration_payload(),
            auth=(self.key, self.secret),
            timeout=10,
        )
        assert registered.status_code == 201, registered.text

    def api(self, method, path, json=None):
        answer = requests.request(
            method, self.base + "/api" + path, json=json, headers=self.api_headers, timeout=10
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def send(self, statement):
        answer = requests.post(
            self.base + "/xapi/statements",
            json=statement,
            auth=(self.key, self.secret),
            headers={"X-Experience-API-Version": "2.0.0"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return time.monotonic()

    def statements(self, **params):
        answer = requests.get(
            self.base + "/xapi/statements",
            params=params,
            auth=(self.key, self.secret),
            headers={"X-Experience-API-Version": "2.0.0"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["statements"]

    def launch(self, user, kind="resource", link="rl-1"):
        session = browser()
        page = session.get(self.lms.launch_url(user, kind, link), timeout=10)
        action, fields = form_of(page.text)
        launched = session.post(action, data=fields, timeout=10)
        assert launched.status_code == 200, launched.text
        return session, launched

    def place(self, choice, text):
        """The instructor places ``choice`` as a graded item; returns the LMS's link id."""
        session, page = self.launch("ian", kind="deeplink")
        assert text in page.text
        action, fields = form_of(page.text, "/lti/deep-link")
        fields.update(choice=choice, graded="on", score_maximum="1")
        returned = session.post(self.base + action, data=fields, timeout=10)
        assert returned.status_code == 200, returned.text
        action, fields = form_of(returned.text, "/dl-return")
        assert session.post(action, data=fields, timeout=10).status_code == 200
        return max(self.lms.links, key=lambda k: int(k.split("-")[1]))


def learner(tool, name):
    user = User(f"u-{uuid.uuid4().hex[:8]}", name, f"{uuid.uuid4().hex[:8]}@example.com", [LEARNER])
    tool.lms.add_user(user)
    return user


def person_id(tool, user):
    [found] = [p for p in tool.api("GET", "/people") if p.get("email") == user.email]
    return found["id"]


def objective_for(tool, user, template_id):
    """The admin opens a cycle around today, a review for the learner, attaches the template."""
    today = dt.date.today()
    cycle = tool.api(
        "POST",
        "/cycles",
        {
            "name": f"now {uuid.uuid4().hex[:6]}",
            "starts_on": (today - dt.timedelta(days=30)).isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(),
        },
    )
    review = tool.api(
        "POST", "/reviews", {"cycle_id": cycle["id"], "person_id": person_id(tool, user)}
    )
    return tool.api("POST", f"/reviews/{review['id']}/objectives", {"template_id": template_id})


def template(tool, activity, times=2):
    return tool.api(
        "POST",
        "/templates",
        {
            "title": f"Work through {activity.rsplit('/', 1)[-1]}",
            "criteria": [{"verbs": [EXPERIENCED], "activity_ids": [activity], "min_count": times}],
        },
    )["id"]


def experienced(user, activity, when, score=None):
    statement = {
        "actor": {"mbox": f"mailto:{user.email}"},
        "verb": {"id": EXPERIENCED},
        "object": {"id": activity},
        "timestamp": when,
    }
    if score is not None:
        statement["result"] = {"score": {"scaled": score}}
    return statement


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    return condition()


def scores_of(tool, user):
    return [s for s in tool.lms.scores if s["userId"] == user.user_id]
