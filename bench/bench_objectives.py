"""Benchmark: a manager's whole team progress over a large LRS.

Loads N statements (default 1,000,000) of 1,000 learners through the LRS write path in
process, projects them to learning facts, gives one manager 50 reports with 5 objectives each
(from templates: LMS courses with a score, code reviews, badges, any two of four courses, a
count of completions), and times the team-progress computation (every objective of every
report) and one learner record. Prints p50/p95 over repeated runs.

    python bench/bench_objectives.py [--statements 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lrs import vocabulary as v  # noqa: E402
from lrs.vocabulary import BADGE  # noqa: E402
from lrs.vocabulary import PULL_REQUEST as PR_TYPE  # noqa: E402

LEARNERS = 1000
REPORTS = 50
COURSES = [f"https://lms.example.com/courses/{n}" for n in range(200)]
PRS = "https://github.com/acme/app/pull/"
BADGES = "https://trailhead.example.com/trails/"
VERBS = {
    "lms": [v.COMPLETED, v.PASSED, v.ATTEMPTED, v.LAUNCHED],
    "code_review": [v.REVIEWED, v.COMMENTED, v.APPROVED],
    "microlearning": [v.EARNED, v.COMPLETED],
}
SOURCES = {
    "lms": "lti",
    "code_review": "connector:github:1",
    "microlearning": "import:microlearning",
}


def statements(rng: random.Random, kind: str, count: int) -> list[dict]:
    out = []
    for _ in range(count):
        learner = rng.randrange(LEARNERS)
        day = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(180 * 24 * 60)
        )
        verb = rng.choice(VERBS[kind])
        if kind == "lms":
            obj = {
                "id": rng.choice(COURSES),
                "definition": {"type": v.COURSE},
            }
        elif kind == "code_review":
            obj = {"id": PRS + str(rng.randrange(20000)), "definition": {"type": PR_TYPE}}
        else:
            trail = rng.choice(["cloud", "data", "security", "ai"])
            obj = {
                "id": f"{BADGES}{trail}/badge-{rng.randrange(40)}",
                "definition": {"type": BADGE},
            }
        statement = {
            "actor": {"mbox": f"mailto:learner{learner}@example.com"},
            "verb": {"id": verb},
            "object": obj,
            "timestamp": day.isoformat().replace("+00:00", "Z"),
        }
        if kind != "microlearning":
            statement["result"] = {
                "score": {"scaled": round(rng.random(), 2)},
                "success": rng.random() > 0.3,
                **(
                    {"response": "looks good"}
                    if kind == "code_review" and rng.random() > 0.4
                    else {}
                ),
            }
        out.append(statement)
    return out


TEMPLATES = [
    {
        "title": "Complete two security courses with 80%",
        "criteria": [
            {
                "verbs": VERBS["lms"][:2],
                "activity_ids": COURSES[:10],
                "source": "lms",
                "min_score": 0.8,
                "count": "activities",
                "min_count": 2,
            }
        ],
    },
    {
        "title": "Give 15 code reviews with comments",
        "criteria": [
            {
                "verbs": VERBS["code_review"][:2],
                "activity_type": PR_TYPE,
                "source": "code_review",
                "with_response": True,
                "min_count": 15,
            }
        ],
    },
    {
        "title": "Earn 3 badges in the Cloud trail",
        "criteria": [
            {
                "verbs": [VERBS["microlearning"][0]],
                "activity_prefix": BADGES + "cloud/",
                "source": "microlearning",
                "min_count": 3,
            }
        ],
    },
    {
        "title": "Any two of four courses",
        "rule": "k_of_n",
        "k": 2,
        "criteria": [{"verbs": [VERBS["lms"][0]], "activity_ids": [c]} for c in COURSES[20:24]],
    },
    {
        "title": "Complete 20 learning activities anywhere",
        "criteria": [{"verbs": [VERBS["lms"][0], VERBS["microlearning"][1]], "min_count": 20}],
    },
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from learnloop.cli import upgrade_database
    from lrs import api
    from lrs.auth import get_or_create_store
    from lrs.db import make_engine, make_session_factory, read_transaction, write_transaction
    from lrs.people.services import ensure_person
    from objectives import accounts
    from objectives import services as svc
    from objectives.models import Review, ReviewCycle
    from objectives.progress import refresh_facts
    from schemas.objectives import TemplateSchema

    tmp = tempfile.mkdtemp(prefix="learnloop-objectives-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    try:
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with write_transaction(sessions) as session:
            store = get_or_create_store(session, f"bench-{uuid.uuid4().hex[:8]}")
            store_id = store.id
        rng = random.Random(3)
        started = time.perf_counter()
        loaded = 0
        while loaded < args.statements:
            kind = rng.choices(list(VERBS), weights=[5, 3, 2])[0]
            batch = statements(rng, kind, min(1000, args.statements - loaded))
            with write_transaction(sessions) as session:
                api.write_statements(session, api.source_principal(store_id, SOURCES[kind]), batch)
            loaded += len(batch)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        with write_transaction(sessions) as session:
            projected = refresh_facts(session, store_id)
        project_s = time.perf_counter() - started
        print(
            f"loaded {loaded:,} statements in {load_s:.0f} s "
            f"({loaded / load_s:,.0f}/s in process); "
            f"projected {projected:,} facts in {project_s:.1f} s"
        )

        with write_transaction(sessions) as session:
            manager = ensure_person(
                session, store_id, {"mbox": "mailto:manager@example.com"}, name="Manager"
            )
            account = accounts.create_account(
                session, store_id, "manager@example.com", None, person_id=manager.id
            )
            viewer = accounts.viewer_of(account)
            cycle = ReviewCycle(
                store_id=store_id,
                name="2026 H1",
                starts_on=dt.date(2026, 1, 1),
                ends_on=dt.date(2026, 6, 30),
            )
            session.add(cycle)
            session.flush()
            reviews = []
            for n in range(REPORTS):
                person = ensure_person(
                    session,
                    store_id,
                    {"mbox": f"mailto:learner{n}@example.com"},
                    name=f"Learner {n}",
                )
                accounts.set_manager(session, store_id, person.id, manager.id)
                review = Review(store_id=store_id, cycle_id=cycle.id, person_id=person.id)
                session.add(review)
                session.flush()
                reviews.append(review)
            templates = [
                svc.create_template(session, viewer, TemplateSchema().load(t)) for t in TEMPLATES
            ]
            for review in reviews:
                for template in templates:
                    svc.attach_objective(session, viewer, review.id, {"template_id": template.id})
            cycle_id = cycle.id

        timings = []
        for run in range(args.runs + 1):
            with write_transaction(sessions) as session:
                t0 = time.perf_counter()
                refresh_facts(session, store_id)
                rows = svc.team_progress(session, viewer, cycle_id)
                elapsed = time.perf_counter() - t0
            if run:
                timings.append(elapsed * 1000)
        objectives = sum(len(m) for _, _, m in rows)
        met = sum(x.progress.met for _, _, m in rows for x in m)
        timings.sort()
        print(
            f"team progress ({len(rows)} reports x {objectives // max(1, len(rows))} objectives = "
            f"{objectives} objectives, {met} met): p50 {statistics.median(timings):.0f} ms, "
            f"p95 {timings[int(len(timings) * 0.95) - 1]:.0f} ms over {len(timings)} runs"
        )
        record_times = []
        for n in range(20):
            with read_transaction(sessions) as session:
                t0 = time.perf_counter()
                svc.learner_record(session, viewer, rows[n % len(rows)][0].id, None, None)
                record_times.append((time.perf_counter() - t0) * 1000)
        print(
            "learner record (all sources, whole history): "
            f"p50 {statistics.median(record_times):.1f} ms"
        )
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
