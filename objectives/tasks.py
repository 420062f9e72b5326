"""The worker's jobs of the objectives: statements in, objectives met, grades out.

``on_statements`` runs for every "store S has new statements" job: it projects the new
statements into learning facts and re-evaluates only the open objectives they can affect (the
people whose identities made them, then each criterion's verbs, activities and source). An
objective that becomes met gets its ``satisfied`` statement (dated by the deciding statement)
and a grade job for every LMS line item placed for its template; a graded learning activity
gets a grade job for the learner's score. Projection, evaluation and the jobs they leave
commit together, chunk by chunk, so a worker killed at any point leaves nothing half done.

``on_person`` (``lrs.queue.PERSON``) re-evaluates one person's open objectives (an identity
linked later, an objective attached to a review).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import queue, webhooks
from lrs.db import read_transaction, write_transaction
from lrs.queue import ClaimedJob
from lrs.runtime import lrs_runtime
from lrs.sql import marks, run
from objectives import progress as pg
from objectives.criteria import Criterion
from objectives.facts import DERIVED, cap
from objectives.models import Objective, Review, ReviewCycle

IN_LIST = 500


def on_statements(job: ClaimedJob) -> None:
    """Project a store's new statements and evaluate what they can affect, chunk by chunk."""
    runtime = lrs_runtime()
    catch_up(runtime.sessions, job.store_id, runtime.public_url, runtime.clock)


def on_person(job: ClaimedJob) -> None:
    """Re-evaluate every open objective of one person."""
    runtime = lrs_runtime()
    person_id = int(job.payload["person"])
    with write_transaction(runtime.sessions) as session:
        for objective, review in open_objectives(session, job.store_id, [person_id]):
            evaluate(session, objective, review, runtime.public_url, runtime.clock())


def open_objectives(
    session: Session, store_id: int, person_ids: list[int]
) -> list[tuple[Objective, Review]]:
    """The objectives not yet met of these people's reviews."""
    found: list[tuple[Objective, Review]] = []
    for i in range(0, len(person_ids), IN_LIST):
        found.extend(
            session.execute(
                select(Objective, Review)
                .join(Review, Review.id == Objective.review_id)
                .where(
                    Objective.store_id == store_id,
                    Objective.satisfied_at.is_(None),
                    Review.person_id.in_(person_ids[i : i + IN_LIST]),
                )
                .order_by(Objective.id)
            ).all()
        )
    return found


def people_of(session: Session, store_id: int, ifis: list[str]) -> dict[str, int]:
    """Person id of each identity (IFI text) known in the store."""
    found: dict[str, int] = {}
    for i in range(0, len(ifis), IN_LIST):
        chunk = ifis[i : i + IN_LIST]
        found.update(
            run(
                session,
                f"SELECT ifi, person_id FROM identities WHERE store_id = ? AND ifi IN "
                f"({marks(len(chunk))})",
                [store_id, *chunk],
            ).all()
        )
    return found


def could_match(criterion: Criterion, fact: pg.NewFact) -> bool:
    """Whether a new fact can move the criterion's count (its time and result are left to SQL)."""
    if criterion.verbs and fact.verb_id not in {cap(v) for v in criterion.verbs}:
        return False
    if criterion.activity_ids and fact.activity_id not in {cap(a) for a in criterion.activity_ids}:
        return False
    if criterion.activity_prefix and not (fact.activity_id or "").startswith(
        cap(criterion.activity_prefix) or ""
    ):
        return False
    if criterion.activity_type and fact.activity_type != cap(criterion.activity_type):
        return False
    if criterion.parent_ids and fact.parent_id not in {cap(a) for a in criterion.parent_ids}:
        return False
    if criterion.source == "any":
        return fact.source != DERIVED
    return fact.source == criterion.source


def evaluate_new_facts(
    session: Session, store_id: int, new: list[pg.NewFact], base_url: str, now_ms: int
) -> None:
    """Evaluate the open objectives that these new facts can affect."""
    by_ifi: dict[str, list[pg.NewFact]] = defaultdict(list)
    for fact in new:
        if fact.ifi and fact.source != DERIVED:
            by_ifi[fact.ifi].append(fact)
    if not by_ifi:
        return
    people = people_of(session, store_id, list(by_ifi))
    facts_of_person: dict[int, list[pg.NewFact]] = defaultdict(list)
    for ifi, person_id in people.items():
        facts_of_person[person_id].extend(by_ifi[ifi])
    for objective, review in open_objectives(session, store_id, sorted(facts_of_person)):
        criteria = [Criterion.from_dict(c) for c in json.loads(objective.criteria)]
        facts = facts_of_person[review.person_id]
        if any(could_match(c, f) for c in criteria for f in facts):
            evaluate(session, objective, review, base_url, now_ms)
    after_activity_facts(session, store_id, facts_of_person, now_ms)


def evaluate(
    session: Session, objective: Objective, review: Review, base_url: str, now_ms: int
) -> bool:
    """Measure one open objective; when met, record it and hand its grades to the queue."""
    from lrs.people.services import identities

    agents = identities(session, objective.store_id, review.person_id)
    keys = pg.actor_keys(agents)
    cycle = session.get(ReviewCycle, review.cycle_id)
    window = pg.cycle_window(cycle)
    measured = pg.measure(session, objective, keys, window, evidence=20)
    if not measured.progress.met:
        return False
    at_ms = pg.deciding_ms(session, objective, keys, window) or now_ms
    at = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC)
    if pg.record_satisfaction(session, measured, agents, base_url, at) is None:
        return False
    objective_met(session, objective, review, now_ms)
    return True


def objective_met(session: Session, objective: Objective, review: Review, now_ms: int) -> None:
    """Leave the grade jobs and the ``objective.met`` webhook event of a met objective.

    A grade job for each LMS line item placed for the objective's template; the event for the
    store's webhook endpoints; both in the transaction that records the objective as met.
    """
    from objectives.lti_hooks import enqueue_objective_grades

    enqueue_objective_grades(session, objective, review.person_id, now_ms)
    queue.notify(session, objective.store_id, "objective.met", {"objective": objective.id}, now_ms)
    webhooks.emit(
        session,
        objective.store_id,
        webhooks.OBJECTIVE_MET,
        {
            "objective": {"id": objective.id, "title": objective.title},
            "review": {"id": review.id, "cycle_id": review.cycle_id},
            "person": webhooks.person(session, review.person_id),
            "met_at": objective.satisfied_at.isoformat().replace("+00:00", "Z")
            if objective.satisfied_at
            else None,
            "statement_id": objective.satisfied_statement_id,
        },
        now_ms,
    )


def after_activity_facts(
    session: Session, store_id: int, facts_of_person: dict[int, list[pg.NewFact]], now_ms: int
) -> None:
    """Leave a grade job for each graded learning activity these facts score."""
    from objectives.lti_hooks import enqueue_activity_grades

    scored: dict[int, set[str]] = defaultdict(set)
    for person_id, facts in facts_of_person.items():
        for fact in facts:
            if fact.activity_id and fact.score is not None:
                scored[person_id].add(fact.activity_id)
    if scored:
        enqueue_activity_grades(session, store_id, scored, now_ms)


def catch_up(sessions, store_id: int, base_url: str, clock) -> int:
    """Project and evaluate everything new in a store now; returns how many statements.

    The worker's job, and ``learnloop objectives refresh``. Each chunk is read and projected
    before the write lock is taken; the facts, the cursor and what they decide commit together.
    """
    done = 0
    while True:
        with read_transaction(sessions) as session:
            chunk = pg.read_chunk(session, store_id)
        if not chunk.facts:
            return done
        with write_transaction(sessions) as session:
            if not pg.apply_chunk(session, store_id, chunk, clock()):
                continue  # another worker got there first: read again after its cursor
            evaluate_new_facts(session, store_id, chunk.new, base_url, clock())
        done += len(chunk.facts)
        if len(chunk.facts) < pg.CHUNK:
            return done
