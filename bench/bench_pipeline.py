"""Benchmark: from a statement's commit to its objective met and its grade in the LMS gradebook.

Loads N statements (default 1,000,000) of 1,000 learners through the LRS write path, gives
every learner an open objective from a template placed as a graded item in an LMS course (the
``lti1p3platform``-based test LMS, on loopback), then prints:

* worker throughput: a fresh ``learnloop worker`` over the whole backlog, statements/s;
* keeping up: ingest paced at --rate (default 5,000 statements/s) in this process while a
  worker process runs beside it: how far behind the worker falls;
* latency, p50/p95 over the samples: a learner's deciding statement is POSTed over HTTP to the
  running tool; time from its 200 until the objective is met (``satisfied_at``) and until the
  LMS has received the score — nobody reads a page in between.

    python bench/bench_pipeline.py [--statements 1000000] [--samples 50] [--database-url URL]
                                   [--workers N]

Needs the test dependencies (``pip install -e '.[test]'``) for the test LMS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lrs import vocabulary as v  # noqa: E402

LEARNERS = 1000
COURSE = "https://lms.example.com/courses/secure-coding"
PASSED = v.PASSED
OTHER_VERBS = [v.COMPLETED, v.EXPERIENCED, v.REVIEWED]


def background(rng: random.Random, count: int, day: dt.datetime) -> list[dict]:
    """Statements that never meet the objective: other verbs, other activities."""
    return [
        {
            "actor": {"mbox": f"mailto:learner{rng.randrange(LEARNERS)}@example.com"},
            "verb": {"id": rng.choice(OTHER_VERBS)},
            "object": {"id": f"https://lms.example.com/courses/{rng.randrange(300)}"},
            "timestamp": (day - dt.timedelta(minutes=rng.randrange(60 * 24 * 60)))
            .isoformat()
            .replace("+00:00", "Z"),
        }
        for _ in range(count)
    ]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * share)) - 1)]


def start_worker(url: str, base: str, instance: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "LEARNLOOP_DATABASE_URL": url,
        "LEARNLOOP_PUBLIC_URL": base,
        "LEARNLOOP_INSTANCE_PATH": instance,
        "LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "learnloop.cli", "worker", "--poll", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--ingest", type=int, default=100_000, help="statements ingested live")
    parser.add_argument("--rate", type=int, default=5_000, help="live ingest, statements/s")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (several need PostgreSQL)"
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    os.environ["LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK"] = "1"
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    import requests

    from learnloop import create_app
    from learnloop.cli import upgrade_database
    from lrs import api
    from lrs.core.versions import V200
    from lrs.db import read_transaction, write_transaction
    from lrs.people.services import ensure_person
    from lrs.sql import run
    from lrs.statements.write import prepare_batch, store_prepared
    from objectives.models import Objective, Review, ReviewCycle
    from schemas.xapi import validate_statements
    from tests.lti.gradebook import Tool
    from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User
    from tests.lti.support import serve, serve_tool

    tmp = tempfile.mkdtemp(prefix="learnloop-pipeline-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp})
    sessions = app.extensions["lrs"].sessions
    lms = LmsPlatform()
    now = dt.datetime.now(dt.UTC)
    try:
        with serve_tool(app) as base, serve(lms.app) as lms_base:
            lms.start(lms_base, base)
            lms.add_user(User("ian", "Ian Instructor", "ian@example.com", [INSTRUCTOR]))
            tool = Tool(app, base, lms)
            template_id = tool.api(
                "POST",
                "/templates",
                {
                    "title": "Pass Secure Coding",
                    "criteria": [{"verbs": [PASSED], "activity_ids": [COURSE]}],
                },
            )["id"]
            link = tool.place(f"objective-template:{template_id}", "Pass Secure Coding")
            objectives: dict[int, int] = {}
            with write_transaction(sessions) as session:
                cycle = ReviewCycle(
                    store_id=tool.store_id,
                    name="now",
                    starts_on=(now - dt.timedelta(days=90)).date(),
                    ends_on=(now + dt.timedelta(days=30)).date(),
                )
                session.add(cycle)
                session.flush()
                for n in range(LEARNERS):
                    person = ensure_person(
                        session,
                        tool.store_id,
                        {"mbox": f"mailto:learner{n}@example.com"},
                        name=f"Learner {n}",
                    )
                    review = Review(store_id=tool.store_id, cycle_id=cycle.id, person_id=person.id)
                    session.add(review)
                    session.flush()
                    objective = Objective(
                        store_id=tool.store_id,
                        review_id=review.id,
                        template_id=template_id,
                        title="Pass Secure Coding",
                        rule="all",
                        criteria=f'[{{"verbs": ["{PASSED}"], "activity_ids": ["{COURSE}"]}}]',
                    )
                    session.add(objective)
                    session.flush()
                    objectives[n] = objective.id
            samples = list(range(args.samples))
            for n in samples:  # sampled learners have launched from the course
                lms.add_user(User(f"u{n}", f"Learner {n}", f"learner{n}@example.com", [LEARNER]))
                tool.launch(f"u{n}", link=link)

            rng = random.Random(7)
            principal = api.source_principal(tool.store_id, "bench")
            started = time.perf_counter()
            loaded = 0
            while loaded < args.statements:
                batch = background(rng, min(1000, args.statements - loaded), now)
                with write_transaction(sessions) as session:
                    api.write_statements(session, principal, batch)
                loaded += len(batch)
            load_s = time.perf_counter() - started
            print(f"loaded {loaded:,} statements in {load_s:.0f} s ({loaded / load_s:,.0f}/s)")

            def lag() -> int:
                with read_transaction(sessions) as session:
                    return run(
                        session,
                        "SELECT (SELECT MAX(seq) FROM statements) - "
                        "COALESCE((SELECT MAX(last_seq) FROM projection_cursors), 0)",
                    ).scalar()

            workers = [start_worker(url, base, tmp) for _ in range(args.workers)]
            started = time.perf_counter()
            while lag() > 0:
                time.sleep(0.2)
            drain_s = time.perf_counter() - started
            print(
                f"{args.workers} worker(s): {loaded:,} statements projected and evaluated against "
                f"{LEARNERS:,} open objectives in {drain_s:.0f} s ({loaded / drain_s:,.0f}/s)"
            )

            started = time.perf_counter()
            ingested, worst = 0, 0
            next_sample = started + 1.0
            while ingested < args.ingest:
                due = started + ingested / args.rate  # paced: batches of 100 at --rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                batch = background(rng, 100, now)
                # As POST /xapi/statements does: validate and prepare before the write lock.
                prepared = prepare_batch(principal, validate_statements(batch, V200), V200)
                with write_transaction(sessions) as session:
                    store_prepared(session, principal, prepared)
                ingested += len(batch)
                if time.perf_counter() >= next_sample:
                    worst = max(worst, lag())
                    next_sample += 1.0
            ingest_s = time.perf_counter() - started
            behind = lag()
            started = time.perf_counter()
            while lag() > 0:
                time.sleep(0.05)
            print(
                f"live ingest of {ingested:,} statements at {ingested / ingest_s:,.0f}/s "
                f"(paced at {args.rate:,}/s) with the worker running: at most {worst:,} "
                f"statements behind (sampled each second), {behind:,} when ingest stopped, "
                f"caught up {time.perf_counter() - started:.1f} s later"
            )

            met_ms, graded_ms = [], []
            for n in samples:
                before = len(lms.scores)
                statement = {
                    "actor": {"mbox": f"mailto:learner{n}@example.com"},
                    "verb": {"id": PASSED},
                    "object": {"id": COURSE},
                    "result": {"score": {"scaled": 0.9}},
                    "id": str(uuid.uuid4()),
                }
                answer = requests.post(
                    base + "/xapi/statements",
                    json=statement,
                    auth=(tool.key, tool.secret),
                    headers={"X-Experience-API-Version": "2.0.0"},
                    timeout=30,
                )
                assert answer.status_code == 200, answer.text
                t0 = time.perf_counter()
                met = graded = None
                while (met is None or graded is None) and time.perf_counter() - t0 < 30:
                    if met is None:
                        with read_transaction(sessions) as session:
                            if session.get(Objective, objectives[n]).satisfied_at is not None:
                                met = time.perf_counter() - t0
                    if graded is None and len(lms.scores) > before:
                        graded = time.perf_counter() - t0
                    time.sleep(0.005)
                met_ms.append((met or 30) * 1000)
                graded_ms.append((graded or 30) * 1000)
            for worker in workers:
                stop(worker)
            print(
                f"commit -> objective met: p50 {statistics.median(met_ms):.0f} ms, "
                f"p95 {percentile(met_ms, 0.95):.0f} ms; commit -> grade in the LMS: "
                f"p50 {statistics.median(graded_ms):.0f} ms, "
                f"p95 {percentile(graded_ms, 0.95):.0f} ms "
                f"({len(samples)} samples, {loaded + ingested:,} statements stored, "
                f"{LEARNERS:,} objectives)"
            )
    finally:
        app.extensions["lrs"].engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
