"""``kill -9`` of the worker in the middle of a backlog loses nothing and sends nothing twice.

A backlog of about 10,000 statements waits in the queue; a real ``learnloop worker`` process
starts on it and is killed with SIGKILL as soon as its first chunk has committed; a second one
finishes the work. Every objective ends as the statements say (met on the deciding
statement's time, or not met) and the LMS gradebook receives each grade exactly once.
Runs on SQLite and PostgreSQL.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from lrs import vocabulary as v
from lrs.db import read_transaction
from lrs.sql import run
from tests.lti.gradebook import (
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

LEARNERS_MEETING, LEARNERS_SHORT = 15, 5
EACH, SHORT, NEEDED = 654, 40, 50  # 15 x 654 + 5 x 40 = 10,010 statements
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def worker(app, backend, base, tmp_path, name):
    env = {
        **os.environ,
        "LEARNLOOP_DATABASE_URL": backend,
        "LEARNLOOP_PUBLIC_URL": base,
        "LEARNLOOP_INSTANCE_PATH": str(tmp_path),
        # the tool's private keys are sealed with the app's key: every process shares it
        "LEARNLOOP_SECRET_KEY": app.extensions["learnloop"].instance_secret(),
        "LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK": "1",
    }
    with open(tmp_path / f"{name}.log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "learnloop.cli", "worker", "--poll", "0.05", "--lease", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def cursor(app, store_id):
    with read_transaction(app.extensions["lrs"].sessions) as session:
        return run(
            session, "SELECT last_seq FROM projection_cursors WHERE store_id = ?", [store_id]
        ).scalar()


def newest_seq(app, store_id):
    with read_transaction(app.extensions["lrs"].sessions) as session:
        return run(
            session, "SELECT MAX(seq) FROM statements WHERE store_id = ?", [store_id]
        ).scalar()


def when(i):
    return (START + dt.timedelta(minutes=i)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def tool(app):
    lms = LmsPlatform()
    with serve_tool(app) as base, serve(lms.app) as lms_base:
        lms.start(lms_base, base)
        lms.add_user(User("ian", "Ian Instructor", "ian@example.com", [INSTRUCTOR]))
        yield Tool(app, base, lms)


def test_kill_9_mid_backlog_then_restart(app, backend, tool, tmp_path):
    activity = f"https://learn.example.com/courses/{uuid.uuid4().hex[:8]}"
    template_id = template(tool, activity, times=NEEDED)
    link = tool.place(f"objective-template:{template_id}", "Work through")
    meeting = [learner(tool, f"Meets {i}") for i in range(LEARNERS_MEETING)]
    short = [learner(tool, f"Short {i}") for i in range(LEARNERS_SHORT)]
    objectives = {}
    for user in meeting + short:
        tool.launch(user.user_id, link=link)
        objectives[user.user_id] = objective_for(tool, user, template_id)["id"]
    statements = [experienced(user, activity, when(i)) for user in meeting for i in range(EACH)] + [
        experienced(user, activity, when(i)) for user in short for i in range(SHORT)
    ]
    for i in range(0, len(statements), 500):
        answer = requests.post(
            tool.base + "/xapi/statements",
            json=statements[i : i + 500],
            auth=(tool.key, tool.secret),
            headers={"X-Experience-API-Version": "2.0.0"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
    backlog_end = newest_seq(app, tool.store_id)

    first = worker(app, backend, tool.base, tmp_path, "first")
    try:
        assert wait_for(lambda: (cursor(app, tool.store_id) or 0) > 0, 60), "no chunk committed"
        first.send_signal(signal.SIGKILL)
        killed_at = cursor(app, tool.store_id)
    finally:
        first.kill()
        first.wait(10)
    assert killed_at < backlog_end, "the worker finished before it could be killed mid-backlog"
    assert all(scores_of(tool, user) == [] for user in meeting)

    second = worker(app, backend, tool.base, tmp_path, "second")
    try:
        done = wait_for(
            lambda: (
                all(scores_of(tool, user) for user in meeting)
                and cursor(app, tool.store_id) >= backlog_end
            ),
            90,
        )
        assert done, (tmp_path / "second.log").read_text()[-3000:]
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    for user in meeting:
        assert [(s["scoreGiven"], s["activityProgress"]) for s in scores_of(tool, user)] == [
            (1.0, "Completed")
        ]
        progress = tool.api("GET", f"/objectives/{objectives[user.user_id]}/progress")
        assert progress["met"] is True
        assert progress["satisfied_at"].startswith(when(NEEDED - 1)[:19])  # the 50th statement
    for user in short:
        assert scores_of(tool, user) == []
        progress = tool.api("GET", f"/objectives/{objectives[user.user_id]}/progress")
        assert progress["met"] is False and progress["satisfied_at"] is None
    satisfied = tool.statements(verb=v.SATISFIED, limit=100)
    assert len(satisfied) == LEARNERS_MEETING
    assert len({s["object"]["id"] for s in satisfied}) == LEARNERS_MEETING
