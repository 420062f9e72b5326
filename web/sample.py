"""A sample organisation with a learning history, for the demo, screenshots and browser tests.

Maya manages Ann, Ben and Chen; statements from the LMS, code review and micro-learning fill
their records; the current cycle's reviews carry objectives from templates.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from lrs import api
from lrs.auth import get_or_create_store
from lrs.db import write_transaction
from lrs.people.services import ensure_person
from lrs.vocabulary import (
    BADGE,
    COMMENTED,
    COMPLETED,
    COURSE,
    EARNED,
    PASSED,
    PULL_REQUEST,
    REVIEWED,
)
from lrs.vocabulary import TRAIL as TRAIL_TYPE
from objectives import accounts
from objectives import services as svc
from objectives.models import Review, ReviewCycle, ReviewGrant
from schemas.objectives import TemplateSchema

# The sample's own activities (example.com): not vocabulary, just where its learning happened.
SECURE_CODING = "https://lms.example.com/courses/secure-coding"
TRAIL = "https://trailhead.example.com/trails/cloud"

TEMPLATES = [
    {
        "title": "Complete Secure Coding with at least 80%",
        "description": "The LMS course every engineer takes this half.",
        "criteria": [
            {
                "verbs": [COMPLETED, PASSED],
                "activity_ids": [SECURE_CODING],
                "source": "lms",
                "min_score": 0.8,
            }
        ],
    },
    {
        "title": "Give 15 code reviews with comments",
        "criteria": [
            {
                "verbs": [REVIEWED, COMMENTED],
                "activity_type": PULL_REQUEST,
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
                "verbs": [EARNED],
                "activity_type": BADGE,
                "parent_ids": [TRAIL],
                "source": "microlearning",
                "min_count": 3,
            }
        ],
    },
]


@dataclass
class SampleOrg:
    store_id: int
    store_name: str
    people: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    templates: list[int] = field(default_factory=list)
    cycle_id: int = 0


def _at(days_ago: float, now: dt.datetime) -> str:
    return (now - dt.timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def learning_history(who: str, now: dt.datetime, rng: random.Random, intensity: float) -> dict:
    """Statements of one learner over the last ten weeks, by source."""
    mbox = {"mbox": f"mailto:{who}@example.com", "name": who.title()}
    lms, reviews, badges = [], [], []
    for week in range(10):
        for _ in range(int(rng.random() * 4 * intensity)):
            lms.append(
                {
                    "actor": mbox,
                    "verb": {"id": COMPLETED, "display": {"en-US": "completed"}},
                    "object": {
                        "id": f"https://lms.example.com/lessons/{rng.randrange(40)}",
                        "definition": {"type": COURSE, "name": {"en-US": "Lesson"}},
                    },
                    "result": {"score": {"scaled": round(0.6 + rng.random() * 0.4, 2)}},
                    "timestamp": _at(week * 7 + rng.random() * 6, now),
                }
            )
        for _ in range(int(rng.random() * 3 * intensity)):
            pr = rng.randrange(900)
            reviews.append(
                {
                    "actor": mbox,
                    "verb": {"id": REVIEWED, "display": {"en-US": "reviewed"}},
                    "object": {
                        "id": f"https://github.com/acme/app/pull/{pr}",
                        "definition": {"type": PULL_REQUEST},
                    },
                    "result": {"response": "Nice work, one suggestion inline."},
                    "timestamp": _at(week * 7 + rng.random() * 6, now),
                }
            )
    for n in range(int(2 * intensity)):
        badges.append(
            {
                "actor": mbox,
                "verb": {"id": EARNED, "display": {"en-US": "earned"}},
                "object": {
                    "id": f"https://trailhead.example.com/badges/cloud-{n}",
                    "definition": {"type": BADGE, "name": {"en-US": f"Cloud badge {n + 1}"}},
                },
                "context": {
                    "contextActivities": {
                        "parent": [{"id": TRAIL, "definition": {"type": TRAIL_TYPE}}]
                    }
                },
                "timestamp": _at(5 + n * 9, now),
            }
        )
    if intensity > 1:
        lms.append(
            {
                "actor": mbox,
                "verb": {"id": PASSED, "display": {"en-US": "passed"}},
                "object": {"id": SECURE_CODING, "definition": {"type": COURSE}},
                "result": {"score": {"scaled": 0.92}, "success": True},
                "timestamp": _at(3, now),
            }
        )
    return {"lti": lms, "connector:github:sample": reviews, "import:microlearning": badges}


def seed(
    sessions,
    password: str,
    store_name: str | None = None,
    now: dt.datetime | None = None,
    history: bool = True,
) -> SampleOrg:
    """Create the sample organisation; every account's password is ``password``."""
    now = now or dt.datetime.now(dt.UTC)
    store_name = store_name or f"sample-{uuid.uuid4().hex[:8]}"
    rng = random.Random(7)
    with write_transaction(sessions) as session:
        store = get_or_create_store(session, store_name)
        org = SampleOrg(store.id, store.name)
        for who, name in (
            ("maya", "Maya Patel"),
            ("ann", "Ann Okafor"),
            ("ben", "Ben Lindqvist"),
            ("chen", "Chen Wei"),
            ("rita", "Rita Alves"),
        ):
            person = ensure_person(
                session, store.id, {"mbox": f"mailto:{who}@example.com"}, name=name
            )
            org.people[who] = person.id
            accounts.create_account(
                session, store.id, f"{who}@example.com", password, person_id=person.id
            )
        accounts.create_account(session, store.id, "admin@example.com", password, is_admin=True)
        for report in ("ann", "ben", "chen"):
            accounts.set_manager(session, store.id, org.people[report], org.people["maya"])
        start = (now - dt.timedelta(days=60)).date()
        cycle = ReviewCycle(
            store_id=store.id,
            name=f"{now.year} review",
            starts_on=start,
            ends_on=start + dt.timedelta(days=180),
        )
        session.add(cycle)
        session.flush()
        org.cycle_id = cycle.id
        for who in ("ann", "ben", "chen"):
            review = Review(
                store_id=store.id,
                cycle_id=cycle.id,
                person_id=org.people[who],
                status="in_progress",
            )
            session.add(review)
            session.flush()
            org.reviews[who] = review.id
        session.add(ReviewGrant(review_id=org.reviews["ann"], person_id=org.people["rita"]))
        manager = accounts.Viewer(0, store.id, org.people["maya"], False)
        for template in TEMPLATES:
            org.templates.append(
                svc.create_template(session, manager, TemplateSchema().load(template)).id
            )
        for who, templates in (
            ("ann", org.templates[:2]),
            ("ben", org.templates),
            ("chen", org.templates[1:]),
        ):
            for template_id in templates:
                svc.attach_objective(
                    session, manager, org.reviews[who], {"template_id": template_id}
                )
    if history:
        for who, intensity in (("ann", 1.6), ("ben", 1.0), ("chen", 0.6)):
            for source, statements in learning_history(who, now, rng, intensity).items():
                if statements:
                    with write_transaction(sessions) as session:
                        principal = api.source_principal(org.store_id, source)
                        api.write_statements(session, principal, statements)
    return org
