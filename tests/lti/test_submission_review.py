"""Submission review (AGS 2.0 §7): an instructor opens a learner's grade in the LMS gradebook.

The LMS sends an ``LtiSubmissionReviewRequest`` for the graded placement with ``for_user``; the
instructor lands on that learner's evidence for the objective placed there (the objective on
the review page), or on the learner's record for a placed activity, when Learnloop lets them
read it. Runs on SQLite and PostgreSQL.
"""

import datetime as dt
import html

import pytest

from lrs import vocabulary as v
from lrs.db import write_transaction
from lrs.people import services as people
from lti import claims as c
from lti.errors import MissingClaim
from lti.launch import check_required_claims
from objectives import accounts
from objectives import services as objectives
from objectives.accounts import Viewer
from objectives.models import Review, ReviewCycle
from tests.lti.harness import make_template, place, place_template
from tests.lti.platform import INSTRUCTOR, User, form_of
from tests.lti.support import browser


def person_of(harness, email):
    with write_transaction(harness.sessions) as session:
        return people.find_person(session, harness.store_id, {"mbox": f"mailto:{email}"}).id


@pytest.fixture(scope="module")
def placed(harness):
    """A template placed as a graded item, Ann's review with its objective; Ian manages Ann."""
    template_id = make_template(harness)
    link_id = place_template(harness, template_id)
    harness.launch("u1", link=link_id)  # Ann is known to Learnloop from here on
    ann, ian = person_of(harness, "ann@example.com"), person_of(harness, "ian@example.com")
    with write_transaction(harness.sessions) as session:
        today = dt.date.today()
        cycle = ReviewCycle(
            store_id=harness.store_id,
            name="submission review",
            starts_on=today - dt.timedelta(days=10),
            ends_on=today + dt.timedelta(days=10),
        )
        session.add(cycle)
        session.flush()
        review = Review(store_id=harness.store_id, cycle_id=cycle.id, person_id=ann)
        session.add(review)
        session.flush()
        accounts.set_manager(session, harness.store_id, ann, ian)
        admin = Viewer(0, harness.store_id, None, True)
        objective = objectives.attach_objective(
            session, admin, review.id, {"template_id": template_id}
        )
        return {"link": link_id, "review": review.id, "objective": objective.id}


def review_launch(harness, user, link, for_user):
    session = browser()
    page = session.get(harness.lms.launch_url(user, "review", link, for_user), timeout=10)
    action, fields = form_of(page.text)
    return session, session.post(action, data=fields, timeout=10, allow_redirects=False)


def test_the_instructor_lands_on_the_learners_evidence_for_the_objective(harness, placed):
    session, landed = review_launch(harness, "u2", placed["link"], "u1")
    assert landed.status_code == 303
    target = landed.headers["Location"]
    assert f"/reviews/{placed['review']}?lt=" in target
    assert target.endswith(f"#objective-{placed['objective']}")
    assert target.startswith(harness.tool + "/")  # absolute, from LEARNLOOP_PUBLIC_URL
    page = session.get(target.split("#")[0], timeout=10)
    assert page.status_code == 200
    assert f'id="objective-{placed["objective"]}"' in page.text
    assert "Ship a threat model" in page.text  # the objective, with its criteria and evidence
    assert "Ann Learner" in html.unescape(page.text)
    statements = harness.xapi.get(
        "/statements", query_string={"verb": v.LAUNCHED, "limit": "100"}
    ).get_json()["statements"]
    assert any(  # the review is a launch of that placement by Ian, recorded as such
        s["object"]["id"].endswith("/resource-link/" + placed["link"])
        and s["actor"].get("account", {}).get("name") == "u2"
        for s in statements
    )


def test_an_instructor_without_a_role_in_learnloop_is_told_why_not(harness, placed):
    harness.lms.add_user(User("u9", "Tom Teacher", "tom@example.com", [INSTRUCTOR]))
    _, landed = review_launch(harness, "u9", placed["link"], "u1")
    assert landed.status_code == 403
    assert "you are not this learner&#39;s manager, a reviewer" in landed.text


def test_a_learner_the_tool_never_saw_is_explained(harness, placed):
    harness.lms.add_user(User("u8", "New Learner", "new@example.com", [c.LEARNER]))
    _, landed = review_launch(harness, "u2", placed["link"], "u8")
    assert landed.status_code == 403
    assert "this learner has not opened Learnloop from the LMS yet" in landed.text


def test_a_placed_activity_leads_to_the_learners_record(harness, placed):
    link_id = place(harness, graded=True, score_maximum=10)
    harness.launch("u1", link=link_id)
    session, landed = review_launch(harness, "u2", link_id, "u1")
    assert landed.status_code == 303
    target = landed.headers["Location"]
    assert f"/people/{person_of(harness, 'ann@example.com')}?lt=" in target
    assert session.get(target, timeout=10).status_code == 200


def test_a_submission_review_without_for_user_is_refused(harness, placed):
    """The claim the message needs (AGS 2.0 §7), checked like every other."""
    with pytest.raises(MissingClaim) as refused:
        check_required_claims(
            {
                "sub": "u2",
                c.ROLES: [c.INSTRUCTOR],
                c.RESOURCE_LINK: {"id": placed["link"]},
            },
            c.SUBMISSION_REVIEW_REQUEST,
        )
    assert getattr(refused.value, "code", "") == "missing_claim"
    assert "for_user.user_id" in refused.value.message
