"""Journey: people hear about it (issue 21). A manager attaches an objective to a report's
review; the learner receives the e-mail at a real SMTP server; the learner's statements meet
the objective; the manager's next digest lists it.

Through public interfaces only: `learnloop demo` configured with LEARNLOOP_SMTP_* as an operator
would, /api, /xapi with the printed credential, `learnloop notifications digest`, and the mail
that arrives at aiosmtpd. Names, IRIs and addresses come from the demo's answers.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import requests

from tests.journeys.support import HTTP_TIMEOUT, Api, Demo, free_port
from tests.notifications.smtp import SmtpServer, parts

FROM = "Learnloop <learnloop@demo.test>"


class MailingDemo(Demo):
    """The demo of an operator who set up e-mail (a local relay, no TLS)."""

    smtp_port: int = 0

    @property
    def env(self):
        return {
            **super().env,
            "LEARNLOOP_SMTP_HOST": "127.0.0.1",
            "LEARNLOOP_SMTP_PORT": str(self.smtp_port),
            "LEARNLOOP_SMTP_SECURITY": "none",
            "LEARNLOOP_SMTP_FROM_ADDRESS": FROM,
        }


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def demo(tmp_path_factory, smtp, demo_database):
    server = MailingDemo(
        tmp_path_factory.mktemp("notify") / "instance", free_port(), database_url=demo_database
    )
    server.smtp_port = smtp.port
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def manager(demo):
    for email in demo.printed.accounts:
        api = Api(demo.base_url, demo.printed.organisation, email, demo.printed.password)
        me = api.get("/api/me").json()
        if me["is_manager"] and not me["is_admin"]:
            api.email = email
            yield api
            api.close()
            return
        api.close()
    raise AssertionError(f"no printed account manages anyone: {demo.printed.accounts}")


def current_cycle(manager: Api) -> dict:
    today = dt.date.today().isoformat()
    for cycle in manager.get("/api/cycles").json():
        if cycle["starts_on"] <= today <= cycle["ends_on"]:
            return cycle
    raise AssertionError("no review cycle is open today")


def wait_until(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def test_a_manager_attaches_the_learner_is_emailed_meets_it_and_the_digest_lists_it(
    demo, manager, smtp
):
    vocabulary = manager.get("/api/vocabulary").json()
    completed = next(v["id"] for v in vocabulary["verbs"] if v["id"].endswith("/completed"))
    cycle = current_cycle(manager)
    row = manager.get(f"/api/cycles/{cycle['id']}/team").json()[0]
    learner = manager.get(f"/api/people/{row['person']['id']}").json()
    me = manager.get(f"/api/people/{manager.get('/api/me').json()['person_id']}").json()
    course = f"https://lms.demo.test/courses/notify-{uuid.uuid4().hex[:6]}"
    title = f"Finish the notifications course {course[-6:]}"

    made = manager.post(
        f"/api/reviews/{row['review']['id']}/objectives",
        {"title": title, "criteria": [{"verbs": [completed], "activity_ids": [course]}]},
    )
    assert made.status_code == 201, made.text

    # The learner hears of it by e-mail: both parts, their name, the link, one-click unsubscribe.
    def attached():
        return [m for m in smtp.mailbox.to(learner["email"]) if title in str(m["Subject"])]

    [message] = wait_until(attached, f"the e-mail to {learner['email']}")
    assert message["From"] == FROM
    assert learner["name"] in str(message["To"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = parts(message)
    review_url = f"{demo.base_url}/reviews/{row['review']['id']}"
    for text in body.values():
        assert f"Hello {learner['name']}," in text and review_url in text
    assert requests.get(review_url, timeout=HTTP_TIMEOUT, allow_redirects=False).status_code in (
        200,
        302,
    )

    # The learner's statements meet it (through the printed credential, as any client sends).
    statement = {
        "actor": {"mbox": f"mailto:{learner['email']}", "name": learner["name"]},
        "verb": {"id": completed},
        "object": {"id": course},
        "timestamp": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(),
    }
    sent = requests.post(
        demo.printed.xapi_endpoint + "statements",
        json=statement,
        auth=(demo.printed.key, demo.printed.secret),
        headers={"X-Experience-API-Version": "1.0.3"},
        timeout=HTTP_TIMEOUT,
    )
    assert sent.status_code == 200, sent.text

    def met():
        objectives = manager.get(f"/api/reviews/{row['review']['id']}").json()["objectives"]
        return any(o["title"] == title and o["met"] for o in objectives)

    wait_until(met, "the objective to be met")

    # The manager's next digest lists it.
    printed = demo.learnloop("notifications", "digest", "--store", demo.printed.organisation)
    assert "digest queued" in printed

    def digest():
        return [m for m in smtp.mailbox.to(manager.email) if "Your week" in str(m["Subject"])]

    [weekly] = wait_until(digest, f"the digest to {manager.email}")
    text = parts(weekly)["text/plain"]
    assert f"Hello {me['name']}," in text
    met_section = text.split("Objectives your people met this week:", 1)[1]
    assert f"- {learner['name']}: {title}" in met_section
    assert weekly["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # One click (RFC 8058: a POST, no session) and no more digests.
    unsubscribe = weekly["List-Unsubscribe"].strip().strip("<>")
    done = requests.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}, timeout=HTTP_TIMEOUT)
    assert done.status_code == 200 and "no more e-mail" in done.text
    demo.learnloop("notifications", "digest", "--store", demo.printed.organisation)

    def learners_second():  # the same run's digest to the learner: the run has happened
        return (
            len([m for m in smtp.mailbox.to(learner["email"]) if "Your week" in m["Subject"]]) == 2
        )

    wait_until(learners_second, "the learner's second digest")
    assert len(digest()) == 1
