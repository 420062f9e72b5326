"""The connection check of an LMS registration, against a real test LMS, per role.

An admin opens *Admin → LMS (LTI) → Connection check*: what the latest launch carried (grade and
roster services with their scopes, the learner's name and email), buttons that call the LMS and
say its answer, and the grade and roster logs. The LMS (``tests/lti/platform.py``) grants or
withholds services as its administrator's settings would. Runs on SQLite and PostgreSQL.
"""

import re
import uuid

import pytest
import requests
from sqlalchemy import select

from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lti import ags, nrps, tasks
from lti.models import Registration, ResourceLink
from objectives.accounts import create_account
from tests.conftest import XapiClient, make_credential
from tests.lti.harness import ACTIVITY, Harness, place
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import browser, serve, serve_tool
from tests.support.worker import drain

PASSWORD = "correct-horse-battery-staple"
EVERYTHING = {*ags.SCOPES, nrps.SCOPE}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Lms(Harness):
    store: str = ""
    registration_id: int = 0


@pytest.fixture(scope="module")
def lms_site(app):
    lms = LmsPlatform(page_size=10)
    with serve_tool(app) as tool, serve(lms.app) as base:
        lms.start(base, tool)
        store, key, secret = make_credential(app)
        created = requests.post(
            tool + "/api/admin/lti/registrations",
            json=lms.registration_payload(),
            auth=(key, secret),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        lms.add_user(User("u1", "Ann Learner", "ann@example.com", [LEARNER]))
        lms.add_user(User("u2", "Ian Instructor", "ian@example.com", [INSTRUCTOR]))
        XapiClient(app, key, secret).post(
            "/statements",
            json={
                "actor": {"mbox": "mailto:someone@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Threat modelling"}}},
            },
        )
        sessions = app.extensions["learnloop"].sessions
        with write_transaction(sessions) as session:
            registration = session.scalar(
                select(Registration).where(Registration.client_id == lms.client_id)
            )
            site = Lms(app, lms, tool, None, registration.store_id)
            site.store, site.registration_id = store, registration.id
            create_account(session, site.store_id, "admin@lms.example", PASSWORD, is_admin=True)
            create_account(session, site.store_id, "manager@lms.example", PASSWORD)
        yield site


@pytest.fixture
def site(lms_site):
    lms_site.runtime.tokens = type(lms_site.runtime.tokens)()
    yield lms_site
    lms_site.lms.granted = set(EVERYTHING)
    lms_site.lms.withheld_claims = set()


def signed_in(app, store, email):
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    answer = client.post(
        "/sign-in",
        data={
            "csrf_token": CSRF.search(form).group(1),
            "store": store,
            "email": email,
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def page_of(site, client=None):
    client = client or signed_in(site.app, site.store, "admin@lms.example")
    answer = client.get(f"/admin/lti/registrations/{site.registration_id}")
    assert answer.status_code == 200
    return client, answer.get_data(as_text=True)


def press(site, client, action):
    _, page = page_of(site, client)
    answer = client.post(
        f"/admin/lti/registrations/{site.registration_id}",
        data={"csrf_token": CSRF.search(page).group(1), "action": action},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_data(as_text=True)


def text(page):
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#39;", "'").split())


def test_the_page_shows_what_the_latest_launch_carried(site):
    site.launch("u1", link="rl-1")
    _, page = page_of(site)
    words = text(page)
    assert "a learner opened Learnloop in “Secure Software” (LtiResourceLinkRequest)" in words
    assert "granted, with the scopes:" in words
    assert f"{ags.SCOPE_SCORE} (send scores)" in words
    assert "Roster service (IMS LTI Names and Role Provisioning) granted" in words
    assert "Learner's name shared" in words and "Learner's email shared" in words


def test_with_services_granted_both_tests_say_the_lms_answered(site):
    link_id = place(site, graded=True, score_maximum=1)
    site.launch("u1", link=link_id)
    client, _ = page_of(site)
    grades = text(press(site, client, "try-grades"))
    assert "Test of the grade service: it works" in grades
    assert "The LMS gives Learnloop a token to send scores" in grades
    assert "column(s)" in grades
    roster = text(press(site, client, "try-roster"))
    assert "Test of the roster service: it works" in roster
    assert "The LMS lists the members of 'Secure Software' to Learnloop" in roster


def test_with_services_refused_the_page_and_the_tests_say_what_to_enable(site):
    site.lms.granted = set()
    site.launch("u1", link="rl-1")
    client, page = page_of(site)
    words = text(page)
    assert "not granted: enable it for Learnloop in the LMS, or grades never arrive" in words
    assert "not granted: instructors have no roster button" in words
    grades = text(press(site, client, "try-grades"))
    assert "Test of the grade service: it does not work" in grades
    assert "This LMS has not granted the grade service to Learnloop" in grades
    assert "'IMS LTI Assignment and Grade Services'" in grades
    roster = text(press(site, client, "try-roster"))
    assert "Test of the roster service: it does not work" in roster
    assert (
        "This LMS has not granted the roster service to Learnloop; ask your LMS administrator "
        "to enable 'IMS LTI Names and Role Provisioning'"
    ) in roster


def test_services_switched_off_after_the_launch_give_the_lms_answer(site):
    link_id = place(site, graded=True, score_maximum=1)
    site.launch("u1", link=link_id)
    site.lms.granted = set()  # the LMS administrator takes the services back
    client, _ = page_of(site)
    grades = text(press(site, client, "try-grades"))
    assert "it does not work" in grades and "OAuth error invalid_scope" in grades
    roster = text(press(site, client, "try-roster"))
    assert "it does not work" in roster and "OAuth error invalid_scope" in roster
    assert f"{nrps.SCOPE} (read the course roster)" in roster


def test_the_grade_log_of_the_registration(site):
    link_id = place(site, graded=True, score_maximum=1)
    site.launch("u1", link=link_id)
    with write_transaction(site.sessions) as session:
        link = session.scalar(
            select(ResourceLink).where(
                ResourceLink.registration_id == site.registration_id,
                ResourceLink.resource_link_id == link_id,
            )
        )
        ann = people.find_person(session, site.store_id, {"mbox": "mailto:ann@example.com"})
        tasks.enqueue_grade(
            session, link, ann.id, subject=f"activity:{uuid.uuid4().hex[:6]}", score_given=1,
            score_maximum=1, comment="check", now_ms=site.runtime.now(),
        )  # fmt: skip
    drain(site.app)
    _, page = page_of(site)
    words = text(page)
    assert "Grades sent to this LMS" in words and "1 / 1 sent HTTP 204" in words
    assert "Secure Software granted" in words  # the course's roster service, in the roster log


def test_a_launch_without_email_warns_the_admins_once(site):
    site.lms.withheld_claims = {"email"}
    site.launch("u1", link="rl-1")
    client, page = page_of(site)
    warning = "do not share the learner's email with Learnloop"
    assert warning in text(page)
    assert "statements sent with their email do not count for them" in text(page)
    assert "Learner's email not shared" in text(page)
    lms_page = text(client.get("/admin/lti").get_data(as_text=True))
    assert warning in lms_page  # on the LMS page too, by the connection check link

    with read_transaction(site.sessions) as session:
        first = session.get(Registration, site.registration_id).privacy_warning_ms
    site.launch("u1", link="rl-1")  # a second launch without email raises nothing new
    with read_transaction(site.sessions) as session:
        assert session.get(Registration, site.registration_id).privacy_warning_ms == first

    assert warning not in text(press(site, client, "dismiss-privacy-warning"))
    site.launch("u1", link="rl-1")
    assert warning not in text(page_of(site, client)[1])  # once: dismissed stays dismissed
    assert warning not in text(client.get("/admin/lti").get_data(as_text=True))

    site.lms.withheld_claims = set()
    site.launch("u1", link="rl-1")  # shared again: the next lapse warns again
    site.lms.withheld_claims = {"name", "email"}
    site.launch("u1", link="rl-1")
    assert "do not share the learner's name and email" in text(page_of(site, client)[1])


def test_only_the_stores_admins_open_it_or_press_its_buttons(site):
    site.launch("u1", link="rl-1")
    path = f"/admin/lti/registrations/{site.registration_id}"
    anonymous = site.app.test_client().get(path)
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]

    manager = signed_in(site.app, site.store, "manager@lms.example")
    assert manager.get(path).status_code == 403
    form = manager.get("/account/api-token").get_data(as_text=True)
    before = len(site.lms.token_requests)
    refused = manager.post(
        path, data={"csrf_token": CSRF.search(form).group(1), "action": "try-grades"}
    )
    assert refused.status_code == 403 and len(site.lms.token_requests) == before

    other_store, _, _ = make_credential(site.app)
    with write_transaction(site.sessions) as session:
        from lrs.models import Store

        other_id = session.scalar(select(Store.id).where(Store.name == other_store))
        create_account(session, other_id, "admin@other.example", PASSWORD, is_admin=True)
    stranger = signed_in(site.app, other_store, "admin@other.example")
    assert stranger.get(path).status_code == 404

    client, page = page_of(site)
    assert "Test the grade service" in page and "Test the roster service" in page


def test_the_roster_log_keeps_each_load_and_what_the_lms_answered(site):
    session, page, _ = site.launch("u2")
    action, fields = form_of(page.text, "/lti/roster/sync")
    loaded = session.post(site.tool + action, data=fields, timeout=10)
    assert "Roster loaded: 2 members" in loaded.text
    site.lms.granted = set(ags.SCOPES)  # the roster service is switched off in the LMS
    site.runtime.tokens = type(site.runtime.tokens)()
    refused = session.post(site.tool + action, data=fields, timeout=10)
    assert "The roster could not be loaded" in refused.text
    words = text(page_of(site)[1])
    assert "Secure Software failed the LMS refused Learnloop an access token" in words
    assert "OAuth error invalid_scope" in words
    assert "Secure Software loaded 2 members" in words


def save_deployments(site, client, ids):
    _, page = page_of(site, client)
    answer = client.post(
        f"/admin/lti/registrations/{site.registration_id}",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "action": "save-deployments",
            "deployment_ids": "\n".join(ids),
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return text(answer.get_data(as_text=True))


def test_a_registration_without_deployments_learns_the_first_and_admins_add_more(site):
    """Canvas's dynamic registration names no deployment: the first signed launch adds its own.

    Later deployments are refused until an admin adds them on the connection check page.
    """
    client, _ = page_of(site)
    words = save_deployments(site, client, [])
    assert "None yet: the first launch from this LMS will add its deployment here" in words
    try:
        _, first, _ = site.launch("u1", link="rl-1")
        assert first.status_code == 200, first.text
        words = text(page_of(site, client)[1])
        assert "deployments 1 " in words
        audit = client.get("/admin/audit?action=lti.deployment.learned").get_data(as_text=True)
        assert "LMS launch from " + site.lms.base in text(audit)

        deploy(site, "2")  # installed again, e.g. in another Canvas sub-account
        refused = browser_get(site.lms.launch_url("u1", "resource", "rl-1"))
        assert refused.status_code == 400
        assert "deployment '2' is not registered for this platform" in text(refused.text)
        assert "connection check page" in text(refused.text)

        words = save_deployments(site, client, ["1", "2"])
        assert "deployments 1, 2 " in words
        _, second, _ = site.launch("u1", link="rl-1")
        assert second.status_code == 200, second.text
    finally:
        deploy(site, "1")
        save_deployments(site, client, ["1"])


def test_a_deployment_id_that_is_not_one_is_refused_in_words(site):
    client, page = page_of(site)
    answer = client.post(
        f"/admin/lti/registrations/{site.registration_id}",
        data={
            "csrf_token": CSRF.search(page).group(1),
            "action": "save-deployments",
            "deployment_ids": "1\n" + "x" * 300,
        },
    )
    assert answer.status_code == 400
    assert "line 2 is not a deployment id" in text(answer.get_data(as_text=True))
    assert "deployments 1 " in text(page_of(site, client)[1])


def deploy(site, deployment_id):
    """The LMS launches from another deployment of the tool."""
    site.lms.deployment_id = deployment_id
    site.lms.config.get_registration().set_deployment_id(deployment_id)


def browser_get(url):
    return browser().get(url, timeout=10)
