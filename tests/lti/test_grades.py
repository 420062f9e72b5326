"""AGS with a real platform: line items, scores with rising timestamps, results, met objectives.

Runs on SQLite and PostgreSQL.
"""

import datetime as dt

import pytest
from sqlalchemy import select

from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lti import grades
from lti.errors import ServiceNotGranted
from lti.models import ResourceLink
from tests.lti.harness import ACTIVITY, make_template, place_template, placed_link
from tests.support.worker import drain


def test_a_met_objective_from_a_placed_template_reaches_the_gradebook(harness):
    """Objective met → satisfied statement → score in the LMS column of the placed template."""
    import datetime as dt_

    from objectives import accounts
    from objectives.models import Review, ReviewCycle

    template_id = make_template(harness)
    link_id = place_template(harness, template_id)
    harness.launch("u1", link=link_id)  # Ann launches: her LMS account joins her person
    with write_transaction(harness.sessions) as session:
        ann = people.find_person(session, harness.store_id, {"mbox": "mailto:ann@example.com"})
        today = dt_.date.today()
        cycle = ReviewCycle(
            store_id=harness.store_id,
            name="now",
            starts_on=today.replace(day=1),
            ends_on=today + dt_.timedelta(days=30),
        )
        session.add(cycle)
        session.flush()
        review = Review(store_id=harness.store_id, cycle_id=cycle.id, person_id=ann.id)
        session.add(review)
        session.flush()
        admin = accounts.create_account(
            session, harness.store_id, f"root{review.id}@example.com", None, is_admin=True
        )
        token = accounts.issue_token(session, admin)
        from objectives import services as objectives

        objective = objectives.attach_objective(
            session, accounts.viewer_of(admin), review.id, {"template_id": template_id}
        )
        objective_id = objective.id
    harness.xapi.post(
        "/statements",
        json={
            "actor": {"mbox": "mailto:ann@example.com"},
            "verb": {"id": v.EXPERIENCED},
            "object": {"id": ACTIVITY},
        },
    )
    before = len(harness.lms.scores)
    drain(harness.app)  # the worker beside the server; nobody reads progress
    sent = harness.lms.scores[before:]
    assert [(s["userId"], s["scoreGiven"], s["activityProgress"]) for s in sent] == [
        ("u1", 1.0, "Completed")
    ]
    again = harness.app.test_client().get(
        f"/api/objectives/{objective_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 200 and again.get_json()["met"] is True
    drain(harness.app)
    assert len(harness.lms.scores) == before + 1  # once


def test_scores_reach_the_gradebook_with_rising_timestamps_and_one_token(harness):
    link_pk = placed_link(harness)
    harness.runtime.tokens = type(harness.runtime.tokens)()  # earlier tests may have cached one
    before_tokens = len(harness.lms.token_requests)
    before_scores = len(harness.lms.scores)
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        first = grades.post_score(
            session, link, "u1", 6, 10, "Submitted", "FullyGraded", "first try",
            runtime=harness.runtime,
        )  # fmt: skip
        second = grades.post_score(
            session, link, "u1", 9, 10, "Completed", "FullyGraded", "second try",
            runtime=harness.runtime,
        )  # fmt: skip
    sent = harness.lms.scores[before_scores:]
    assert [s["scoreGiven"] for s in sent] == [6, 9]
    assert sent[0]["timestamp"] < sent[1]["timestamp"]
    assert first["status"] == second["status"] == 204
    for score in sent:
        assert dt.datetime.fromisoformat(score["timestamp"]).tzinfo is not None
        assert score["userId"] == "u1" and score["scoreMaximum"] == 10
    score_tokens = [
        t for t in harness.lms.token_requests[before_tokens:] if t["scope"].endswith("/score")
    ]
    assert len(score_tokens) == 1  # cached per (registration, scope set)

    with read_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        results = grades.get_results(session, link, runtime=harness.runtime)
        mine = grades.get_results(session, link, user_sub="u1", runtime=harness.runtime)
    assert [(r["userId"], r["resultScore"]) for r in results] == [("u1", 9)]
    assert mine == results


def test_line_items_are_found_across_pages_and_created_when_missing(harness):
    link_pk = placed_link(harness)
    for n in range(5):
        harness.lms.add_line_item(f"Objective {n}", f"objective:{n}", tag="learnloop:objective")
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        tagged = grades.line_items(
            session, link, tag="learnloop:objective", runtime=harness.runtime
        )
        assert len(tagged) == 5  # three pages of two: rel="next" was followed
        count = len(harness.lms.line_items)
        found = grades.find_or_create_line_item(
            session, link, label="Objective 4", score_maximum=100,
            resource_id="objective:4", tag="learnloop:objective", runtime=harness.runtime,
        )  # fmt: skip
        assert found["resourceId"] == "objective:4" and len(harness.lms.line_items) == count
        created = grades.find_or_create_line_item(
            session, link, label="Objective 99", score_maximum=50,
            resource_id="objective:99", tag="learnloop:objective", runtime=harness.runtime,
        )  # fmt: skip
        assert len(harness.lms.line_items) == count + 1
        assert created["resourceLinkId"] == link.resource_link_id
        result = grades.post_score(
            session, link, "u1", 50, 50, "Completed", "FullyGraded",
            line_item_url=created["id"], runtime=harness.runtime,
        )  # fmt: skip
    assert harness.lms.scores[-1]["scoreGiven"] == 50 and result["status"] == 204


def test_a_score_without_the_score_scope_or_a_line_item_is_refused_before_any_call(harness):
    harness.launch("u1")  # rl-1 has no coupled line item
    with write_transaction(harness.sessions) as session:
        link = session.scalar(
            select(ResourceLink).where(
                ResourceLink.store_id == harness.store_id, ResourceLink.resource_link_id == "rl-1"
            )
        )
        before = len(harness.lms.scores)
        with pytest.raises(ServiceNotGranted):
            grades.post_score(session, link, "u1", 1, 2, runtime=harness.runtime)
        link.ags_scopes = ""
        with pytest.raises(ServiceNotGranted):
            grades.post_score(
                session, link, "u1", 1, 2, line_item_url=harness.lms.base + "/x",
                runtime=harness.runtime,
            )  # fmt: skip
    assert len(harness.lms.scores) == before
