"""Grades reach the LMS on their own: statements in, objective met, score out — nobody reads.

The tool and the ``lti1p3platform``-based LMS run as real HTTP servers on 127.0.0.1, with a
queue worker running beside the tool as ``learnloop serve`` runs one. Objectives and
statements are made over HTTP (``/api``, ``/xapi``); the test then only watches the LMS's
gradebook and the LRS, never a progress page. Runs on SQLite and PostgreSQL.
"""

import threading
import time
import uuid

import pytest
import requests

from learnloop.worker import Worker, WorkerSettings
from lrs import vocabulary as v
from tests.lti.gradebook import (
    DEADLINE,
    Tool,
    experienced,
    learner,
    objective_for,
    scores_of,
    template,
    wait_for,
)
from tests.lti.platform import INSTRUCTOR, LmsPlatform, User
from tests.lti.support import serve, serve_tool


@pytest.fixture(scope="module")
def tool(app):
    lms = LmsPlatform()
    worker = Worker(app, WorkerSettings(poll_seconds=0.05, backoff_base_ms=200, max_attempts=3))
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    with serve_tool(app) as base, serve(lms.app) as lms_base:
        lms.start(lms_base, base)
        lms.add_user(User("ian", "Ian Instructor", "ian@example.com", [INSTRUCTOR]))
        running = Tool(app, base, lms)
        thread.start()
        yield running
        worker.stop()
        thread.join(10)


def test_a_met_objective_reaches_the_gradebook_within_seconds_without_a_read(tool):
    activity = f"https://learn.example.com/courses/{uuid.uuid4().hex[:8]}"
    template_id = template(tool, activity)
    link = tool.place(f"objective-template:{template_id}", "Work through")
    ann = learner(tool, "Ann Learner")
    tool.launch(ann.user_id, link=link)  # her LMS account joins her person
    objective = objective_for(tool, ann, template_id)

    tool.send(experienced(ann, activity, "2026-12-01T09:00:00.000Z"))
    committed = tool.send(experienced(ann, activity, "2026-12-01T10:30:00.000Z"))  # deciding
    sent = wait_for(lambda: scores_of(tool, ann), DEADLINE + 1)
    took = time.monotonic() - committed

    assert [(s["scoreGiven"], s["scoreMaximum"], s["activityProgress"]) for s in sent] == [
        (1.0, 1.0, "Completed")
    ]
    assert took <= DEADLINE, f"the grade took {took:.2f} s"
    [satisfied] = tool.statements(verb=v.SATISFIED, agent=f'{{"mbox":"mailto:{ann.email}"}}')
    assert satisfied["object"]["id"] == f"{tool.base}/objectives/{objective['id']}"
    assert satisfied["timestamp"].startswith("2026-12-01T10:30:00")  # the deciding statement's

    # Reading progress afterwards changes nothing and sends nothing again.
    progress = tool.api("GET", f"/objectives/{objective['id']}/progress")
    assert progress["met"] and progress["satisfied_at"].startswith("2026-12-01T10:30:00")
    time.sleep(0.3)
    assert len(scores_of(tool, ann)) == 1


def test_a_graded_learning_activity_gets_the_best_score(tool):
    activity = f"https://learn.example.com/quizzes/{uuid.uuid4().hex[:8]}"
    tool.send(  # the store knows the activity by name, so an instructor can place it
        {
            "actor": {"mbox": "mailto:author@example.com"},
            "verb": {"id": v.AUTHORED},
            "object": {"id": activity, "definition": {"name": {"en-US": "Quiz " + activity[-8:]}}},
        }
    )
    link = tool.place(f"activity:{activity}", "Quiz " + activity[-8:])
    bo = learner(tool, "Bo Learner")
    tool.launch(bo.user_id, link=link)

    committed = tool.send(experienced(bo, activity, "2026-12-01T09:00:00Z", score=0.6))
    first = wait_for(lambda: scores_of(tool, bo), DEADLINE + 1)
    assert time.monotonic() - committed <= DEADLINE
    assert [s["scoreGiven"] for s in first] == [0.6]

    tool.send(experienced(bo, activity, "2026-12-01T10:00:00Z", score=0.9))
    assert wait_for(lambda: [s["scoreGiven"] for s in scores_of(tool, bo)] == [0.6, 0.9], 3)
    tool.send(experienced(bo, activity, "2026-12-01T11:00:00Z", score=0.7))  # not better
    time.sleep(0.5)
    assert [s["scoreGiven"] for s in scores_of(tool, bo)] == [0.6, 0.9]


def test_a_platform_that_fails_once_gets_the_grade_on_retry(tool):
    activity = f"https://learn.example.com/courses/{uuid.uuid4().hex[:8]}"
    template_id = template(tool, activity, times=1)
    link = tool.place(f"objective-template:{template_id}", "Work through")
    cy = learner(tool, "Cy Learner")
    tool.launch(cy.user_id, link=link)
    objective = objective_for(tool, cy, template_id)

    tool.lms.score_failures[cy.user_id] = [500]
    tool.send(experienced(cy, activity, "2026-12-01T09:00:00Z"))
    assert wait_for(lambda: scores_of(tool, cy), 5)

    def logged():  # the log row of the accepted score commits just after the platform answers
        answer = requests.get(
            tool.base + "/api/admin/lti/grades", auth=(tool.key, tool.secret), timeout=10
        ).json()
        subject = f"objective:{objective['id']}"
        rows = [d for d in answer["deliveries"] if d["subject"] == subject]
        return rows if len(rows) >= 2 else None

    mine = wait_for(logged, 5)
    assert [d["outcome"] for d in mine] == ["sent", "error"]  # newest first
    assert "HTTP 500" in mine[1]["answer"]


def test_a_platform_that_refuses_ends_in_a_failed_grade_with_the_reason(tool):
    activity = f"https://learn.example.com/courses/{uuid.uuid4().hex[:8]}"
    template_id = template(tool, activity, times=1)
    link = tool.place(f"objective-template:{template_id}", "Work through")
    di = learner(tool, "Di Learner")
    tool.launch(di.user_id, link=link)
    objective_for(tool, di, template_id)

    tool.lms.refuse_scores[di.user_id] = 403
    try:
        tool.send(experienced(di, activity, "2026-12-01T09:00:00Z"))

        def failed():
            answer = requests.get(
                tool.base + "/api/admin/lti/grades", auth=(tool.key, tool.secret), timeout=10
            ).json()
            return answer["failed"]

        [grade] = wait_for(failed, 5)
    finally:
        tool.lms.refuse_scores.pop(di.user_id)
    assert grade["reason"].startswith("the LMS's score service answered HTTP 403 Forbidden")
    assert "'IMS LTI Assignment and Grade Services'" in grade["reason"]
    assert grade["attempts"] == 1  # a refusal is not retried: an administrator must act
    assert scores_of(tool, di) == []
