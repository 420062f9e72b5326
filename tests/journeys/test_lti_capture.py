"""Journey 3, Connect the LMS (issue 12, item 6): "An LMS admin registers Learnloop (dynamic
registration or by hand), checks the connection page; a teacher places an objective template and
a graded activity with Deep Linking; learners launch; when a learner's statements meet the
objective, the grade appears in the LMS gradebook within seconds, without anyone opening a
Learnloop page."

Through real interfaces only: a running `learnloop demo`, its printed credential and accounts,
`learnloop lti invite`, HTTP, and a real third-party LTI 1.3 platform (``lti1p3platform``,
tests/lti/platform.py) that registers Learnloop dynamically, launches it and keeps a gradebook.

How the test LMS reaches the sample's objective, honestly. The sample organisation's LMS
objective ("complete Secure Coding with at least 80%", read from /api) names a learning activity,
the Secure Coding course package, which the sample's own Moodle launched as a placed activity.
The test LMS is another platform with its own issuer, so its launch records (resource links and
courses under its issuer) can never be that activity. What ties any LMS to the objective is what
ties a real one: the teacher places the activity the objective names (read from /api, picked by
name or typed by its id) with Deep Linking, so every launch of that link carries it; the course
content then reports on it with its launch's context, as cmi5 content does. The teacher also
places the objective's template as a graded item, so the met objective's grade reaches that
gradebook column. The manager first attaches the template to the review of a sample learner who
does not have it yet, so the objective starts unmet and its move is this journey's doing.

A journey test never imports the code under test: IRIs and names come from /api/vocabulary,
/api answers and the LRS; the demo prints the rest.
"""

import datetime as dt
import re
import time

import pytest
import requests

from tests.journeys.support import HTTP_TIMEOUT, Api, printed_admin
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import browser, serve

DATABASES = ("sqlite", "postgresql")  # each test runs on both (tests/journeys/conftest.py)
DEADLINE = 5.0  # seconds from the content's statement to the objective met, and to the grade
TEACHER = User("lms-teacher-1", "Tess Teacher", "tess.teacher@school.example.org", [INSTRUCTOR])


@pytest.fixture(scope="module")
def admin(demo):
    api = Api(demo.base_url, demo.printed.organisation, printed_admin(demo), demo.printed.password)
    yield api
    api.close()


@pytest.fixture(scope="module")
def lms(demo):
    """The third-party LMS on 127.0.0.1, pointing at the running demo as its tool."""
    platform = LmsPlatform()
    with serve(platform.app) as base:
        platform.start(base, demo.base_url)
        platform.add_user(TEACHER)
        yield platform


def vocabulary(demo) -> dict:
    return requests.get(demo.base_url + "/api/vocabulary", timeout=HTTP_TIMEOUT).json()


def verb_named(demo, name: str) -> str:
    [iri] = [v["id"] for v in vocabulary(demo)["verbs"] if v["name"] == name]
    return iri


# ---- the LMS admin -----------------------------------------------------------------------


def register_dynamically(demo, lms) -> None:
    """`learnloop lti invite` prints a link; the LMS admin pastes it into the LMS."""
    printed = demo.learnloop("lti", "invite", "--store", demo.printed.organisation)
    invite = re.search(r"(http://\S+/lti/register\?invite=\S+)", printed)
    assert invite, printed
    page = browser().get(
        invite.group(1),
        params={
            "openid_configuration": lms.base + "/.well-known/openid-configuration",
            "registration_token": lms.registration_token,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert page.status_code == 200, page.text
    assert len(lms.dynamic_registrations) == 1  # the LMS accepted Learnloop's registration


def check_the_connection(demo, lms) -> None:
    """The registration as the admin API shows it, with the demo's printed credential."""
    answer = requests.get(
        demo.base_url + "/api/admin/lti/registrations",
        auth=(demo.printed.key, demo.printed.secret),
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    [registration] = [r for r in answer.json()["registrations"] if r["issuer"] == lms.base]
    assert registration["client_id"] == lms.client_id
    assert registration["deployment_ids"] == [lms.deployment_id]


def open_the_connection_check(demo, lms):
    """The admin signs in on the pages, follows *Admin → LMS (LTI) → Connection check* of this
    LMS (docs/lms/README.md) and presses a test; returns the page after each press."""
    pages = browser()
    form = pages.get(demo.base_url + "/sign-in", timeout=HTTP_TIMEOUT).text
    signed = pages.post(
        demo.base_url + "/sign-in",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "store": demo.printed.organisation,
            "email": printed_admin(demo),
            "password": demo.printed.password,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert signed.status_code == 200, signed.text
    listed = pages.get(demo.base_url + "/admin/lti", timeout=HTTP_TIMEOUT).text
    for href in re.findall(r'href="([^"]+)">Connection check of', listed):
        check = pages.get(demo.base_url + href, timeout=HTTP_TIMEOUT)
        if f"<code>{lms.base}</code>" in check.text:
            break
    else:
        raise AssertionError("no connection check for the LMS on the LMS page")

    def press(button: str) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', check.text).group(1)
        action = re.search(r'value="([^"]+)">' + button + "<", check.text).group(1)
        answer = pages.post(
            check.url, data={"csrf_token": token, "action": action}, timeout=HTTP_TIMEOUT
        )
        assert answer.status_code == 200, answer.text
        return " ".join(re.sub(r"<[^>]+>", " ", answer.text).split())

    return " ".join(re.sub(r"<[^>]+>", " ", check.text).split()), press


# ---- the manager -------------------------------------------------------------------------


def the_sample_lms_template(admin) -> dict:
    """The sample organisation's template whose criterion counts LMS learning."""
    [template] = [
        t for t in admin.get("/api/templates").json() if t["criteria"][0].get("source") == "lms"
    ]
    return template


def a_learner_without_it(admin, template) -> dict:
    """A report in the current cycle whose review does not carry the template's objective."""
    today = dt.date.today().isoformat()
    [current] = [
        c for c in admin.get("/api/cycles").json() if c["starts_on"] <= today <= c["ends_on"]
    ]
    for row in admin.get(f"/api/cycles/{current['id']}/team").json():
        if all(o["title"] != template["title"] for o in row["objectives"]):
            return row
    raise AssertionError("every report of the sample already has the LMS objective")


def attach(admin, review_id: int, template) -> dict:
    answer = admin.post(f"/api/reviews/{review_id}/objectives", {"template_id": template["id"]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def progress(admin, objective) -> dict:
    answer = admin.get(f"/api/objectives/{objective['id']}/progress")
    assert answer.status_code == 200, answer.text
    return answer.json()


# ---- the teacher and the learner in the LMS ----------------------------------------------


def launch(lms, user, kind="resource", link="rl-1"):
    """Click Learnloop in the LMS: login, authentication, the form_post launch."""
    session = browser()
    page = session.get(lms.launch_url(user.user_id, kind, link), timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, page.text
    action, fields = form_of(page.text)
    landed = session.post(action, data=fields, timeout=HTTP_TIMEOUT)
    assert landed.status_code == 200, landed.text
    return session, landed


def place(demo, lms, choose) -> str:
    """The teacher places something as a graded item with Deep Linking; returns its link id."""
    session, page = launch(lms, TEACHER, kind="deeplink")
    action, fields = form_of(page.text, "/lti/deep-link")
    fields.update(choose(page.text), graded="on", score_maximum="100")
    returned = session.post(demo.base_url + action, data=fields, timeout=HTTP_TIMEOUT)
    assert returned.status_code == 200, returned.text
    action, fields = form_of(returned.text, "/dl-return")
    assert action == lms.base + "/dl-return"
    accepted = session.post(action, data=fields, timeout=HTTP_TIMEOUT)
    assert accepted.status_code == 200, accepted.text
    return max(lms.links, key=lambda k: int(k.split("-")[1]))


def the_template(template):
    def choose(page: str) -> dict:
        choice = f"objective-template:{template['id']}"
        assert f'value="{choice}"' in page, "the store's templates are offered"
        return {"choice": choice}

    return choose


def the_activity(activity: str):
    """Picked by name when the page offers it, else typed by its id."""

    def choose(page: str) -> dict:
        offered = f"activity:{activity}"
        return {"choice": offered} if f'value="{offered}"' in page else {"activity_id": activity}

    return choose


def the_launch_of(demo, activity: str, since: str) -> dict:
    """The `launched` statement of the placed activity, read back from the LRS."""
    answer = requests.get(
        demo.printed.xapi_endpoint + "statements",
        params={
            "verb": verb_named(demo, "launched"),
            "activity": activity,
            "related_activities": "true",
            "since": since,
        },
        auth=(demo.printed.key, demo.printed.secret),
        headers={"X-Experience-API-Version": "2.0.0"},
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    [launched] = answer.json()["statements"]
    return launched


def course_result(launched: dict, activity: str, verb: str, score: float) -> dict:
    """What the course content sends: its result on the activity, in its launch's context."""
    context = launched["context"]
    return {
        "actor": launched["actor"],
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": activity},
        "result": {"score": {"scaled": score}, "success": True, "completion": True},
        "context": {
            "registration": context["registration"],
            "platform": context["platform"],
            "contextActivities": {
                kind: context["contextActivities"][kind]
                for kind in ("parent", "grouping")
                if kind in context["contextActivities"]
            },
        },
        "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    return condition()


# ---- the journey -------------------------------------------------------------------------


def test_a_launched_learners_course_result_meets_the_sample_objective_and_reaches_the_gradebook(
    demo, admin, lms
):
    register_dynamically(demo, lms)
    check_the_connection(demo, lms)

    template = the_sample_lms_template(admin)
    [criterion] = template["criteria"]
    [activity] = criterion["activity_ids"]
    row = a_learner_without_it(admin, template)
    objective = attach(admin, row["review"]["id"], template)
    assert not progress(admin, objective)["met"]
    person = admin.get(f"/api/people/{row['person']['id']}").json()
    learner = User("lms-learner-7", person["name"], person["email"], [LEARNER])
    lms.add_user(learner)

    template_link = place(demo, lms, the_template(template))
    activity_link = place(demo, lms, the_activity(activity))

    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    _, landing = launch(lms, learner, link=template_link)
    assert template["title"] in landing.text  # the learner sees the objective in the LMS

    # The LMS admin checks the connection page: the services granted, name and email shared,
    # and the LMS answering both tests.
    shown, press = open_the_connection_check(demo, lms)
    assert "granted, with the scopes:" in shown and "Learner's email shared" in shown
    assert "Test of the grade service: it works" in press("Test the grade service")
    assert "Test of the roster service: it works" in press("Test the roster service")
    launch(lms, learner, link=activity_link)
    launched = the_launch_of(demo, activity, since)
    assert [a["id"] for a in launched["context"]["contextActivities"]["other"]] == [activity]

    names = {v["id"]: v["name"] for v in vocabulary(demo)["verbs"]}
    verb = next((v for v in criterion["verbs"] if names.get(v) == "passed"), criterion["verbs"][0])
    score = round(min(1.0, criterion["min_score"] + 0.1), 2)
    sent = requests.post(
        demo.printed.xapi_endpoint + "statements",
        json=course_result(launched, activity, verb, score),
        auth=(demo.printed.key, demo.printed.secret),
        headers={"X-Experience-API-Version": "2.0.0"},
        timeout=HTTP_TIMEOUT,
    )
    assert sent.status_code == 200, sent.text
    committed = time.monotonic()

    met = wait_for(lambda: progress(admin, objective)["met"], DEADLINE)
    took = time.monotonic() - committed
    assert met, progress(admin, objective)
    assert took <= DEADLINE, f"the objective was met {took:.1f} s after the statement"
    [counted] = progress(admin, objective)["criteria"]
    assert counted["count"] == 1 and counted["met"]

    def grade(link_id):
        return lms.results.get((lms.links[link_id].line_item_id, learner.user_id))

    objective_grade = wait_for(lambda: grade(template_link), DEADLINE)
    assert objective_grade, "the met objective's grade did not reach the gradebook"
    assert objective_grade["scoreGiven"] == objective_grade["scoreMaximum"]
    assert objective_grade["gradingProgress"] == "FullyGraded"
    activity_grade = wait_for(lambda: grade(activity_link), DEADLINE)
    assert activity_grade, "the graded activity's best score did not reach the gradebook"
    assert activity_grade["scoreGiven"] == pytest.approx(score * activity_grade["scoreMaximum"])
