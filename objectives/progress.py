"""Progress of objectives, computed from the LRS with indexed queries (learning_facts).

The worker (``objectives.tasks``) projects new statements with ``project_next`` and evaluates
the objectives they can affect; ``measure`` counts, per criterion, the distinct learning events
of a person's identities; an objective that becomes met gets its ``satisfied`` statement
through the LRS write path, once, dated by the statement that decided it. Reads only measure.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import api
from lrs import vocabulary as v
from lrs.core import jsontext
from lrs.core import statements as st
from lrs.core.agents import ifi_string
from lrs.sql import insert_many, marks, run
from objectives.criteria import Criterion, CriterionProgress, ObjectiveProgress, combine
from objectives.facts import DERIVED, cap, fact_of
from objectives.models import LearningFact, Objective, Review, ReviewCycle

FACTS = LearningFact.__table__
FACT_COLUMNS = (
    "seq",
    "store_id",
    "actor_key",
    "verb_id",
    "activity_id",
    "activity_type",
    "parent_id",
    "source",
    "at_ms",
    "score",
    "success",
    "completion",
    "has_response",
    "fingerprint",
)
CHUNK = 5000
# Voided statements are few: one small set per query (a partial index) instead of a join.
NOT_VOIDED = "f.seq NOT IN (SELECT seq FROM statements WHERE store_id = ? AND voided)"
SATISFIED = v.SATISFIED
OBJECTIVE_TYPE = v.OBJECTIVE
NAMESPACE = uuid.UUID("6f0c9a52-3b1e-4f4e-9d55-0c1f2d7b8e11")


@dataclass(frozen=True)
class NewFact:
    """What evaluation needs to know of a statement just projected."""

    ifi: str | None
    verb_id: str
    activity_id: str | None
    activity_type: str | None
    parent_id: str | None
    source: str
    score: float | None


@dataclass
class Chunk:
    """Statements read after the cursor ``after``, with their facts computed (no lock held)."""

    after: int
    last_seq: int
    facts: list[tuple]
    new: list[NewFact]


def read_chunk(session: Session, store_id: int, limit: int = CHUNK) -> Chunk:
    """Read and project the next statements, in any transaction.

    The CPU-heavy part (parsing, facts) happens before the write lock is taken, so writers of
    statements wait less.
    """
    after = (
        run(
            session, "SELECT last_seq FROM projection_cursors WHERE store_id = ?", [store_id]
        ).scalar()
        or 0
    )
    rows = run(
        session,
        "SELECT seq, stored_ms, payload FROM statements WHERE store_id = ? AND seq > ? "
        "ORDER BY seq LIMIT ?",
        [store_id, after, limit],
    ).all()
    new: list[NewFact] = []
    facts = []
    for seq, stored_ms, payload in rows:
        statement = jsontext.loads(payload)
        fact = fact_of(statement, stored_ms)
        facts.append(tuple([seq, store_id, *(fact[c] for c in FACT_COLUMNS[2:])]))
        new.append(
            NewFact(
                ifi_string(statement["actor"]),
                fact["verb_id"],
                fact["activity_id"],
                fact["activity_type"],
                fact["parent_id"],
                fact["source"],
                fact["score"],
            )
        )
    return Chunk(after, rows[-1][0] if rows else after, facts, new)


def apply_chunk(session: Session, store_id: int, chunk: Chunk, now_ms: int) -> bool:
    """Store a chunk's facts and move the cursor, in the caller's write transaction.

    False, storing nothing, when the cursor moved since the chunk was read (another worker
    projected it). The cursor row stays locked until the caller commits (``FOR UPDATE`` on
    PostgreSQL; SQLite has one writer). Statements of one store commit in ``seq`` order, so
    the cursor never skips one that commits late.
    """
    run(
        session,
        "INSERT INTO projection_cursors (store_id, last_seq) VALUES (?, 0) "
        "ON CONFLICT (store_id) DO NOTHING",
        [store_id],
    )
    lock = " FOR UPDATE" if session.get_bind().dialect.name == "postgresql" else ""
    last_seq = run(
        session, f"SELECT last_seq FROM projection_cursors WHERE store_id = ?{lock}", [store_id]
    ).scalar()
    if last_seq != chunk.after:
        return False
    if chunk.facts:
        insert_many(session, FACTS, FACT_COLUMNS, chunk.facts)
    run(
        session,
        "UPDATE projection_cursors SET last_seq = ?, updated_ms = ? WHERE store_id = ?",
        [chunk.last_seq, now_ms, store_id],
    )
    return True


def project_next(session: Session, store_id: int, now_ms: int, limit: int = CHUNK) -> list[NewFact]:
    """Read and apply the next chunk in the caller's one write transaction; returns what was new."""
    chunk = read_chunk(session, store_id, limit)
    apply_chunk(session, store_id, chunk, now_ms)
    return chunk.new


def refresh_facts(session: Session, store_id: int, now_ms: int = 0) -> int:
    """Project every statement stored since the cursor (no evaluation); returns how many."""
    done = 0
    while True:
        new = project_next(session, store_id, now_ms)
        done += len(new)
        if len(new) < CHUNK:
            return done


def projection_lag(session: Session, store_id: int) -> tuple[int, int | None]:
    """How many stored statements the projection has not counted yet, and when it last ran."""
    row = run(
        session,
        "SELECT c.last_seq, c.updated_ms FROM projection_cursors c WHERE c.store_id = ?",
        [store_id],
    ).first()
    last_seq, updated_ms = (row[0], row[1]) if row else (0, None)
    behind = run(
        session,
        "SELECT COUNT(*) FROM (SELECT 1 FROM statements WHERE store_id = ? AND seq > ? "
        "LIMIT 100001) x",
        [store_id, last_seq],
    ).scalar()
    return behind or 0, updated_ms


def actor_keys(agents: Iterable[dict]) -> list[int]:
    return [st.term_key(st.AGENT, i) for i in (ifi_string(a) for a in agents) if i]


DAY_MS = 24 * 3600 * 1000


def _day_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def day_end_ms(day: dt.date) -> int:
    """The end of ``day`` (exclusive) in ms; 9999-12-31 has one too, though no next date."""
    return _day_ms(day) + DAY_MS


def cycle_window(cycle: ReviewCycle) -> tuple[int, int]:
    """The cycle's window in ms: from its first day to the end of its last day."""
    return _day_ms(cycle.starts_on), day_end_ms(cycle.ends_on)


def criterion_filter(
    store_id: int, keys: list[int], criterion: Criterion, window: tuple[int, int]
) -> tuple[str, list]:
    """The ``FROM learning_facts f WHERE …`` of a criterion, and its parameters."""
    start = max(window[0], criterion.window_start_ms or window[0])
    end = min(window[1], criterion.window_end_ms or window[1])
    where = [f"f.store_id = ? AND f.actor_key IN ({marks(len(keys))})"]
    params: list = [store_id, *keys]
    if criterion.verbs:
        where.append(f"f.verb_id IN ({marks(len(criterion.verbs))})")
        params.extend(cap(v) for v in criterion.verbs)
    where.append("f.at_ms >= ? AND f.at_ms < ?")
    params.extend([start, end])
    if criterion.activity_ids:
        where.append(f"f.activity_id IN ({marks(len(criterion.activity_ids))})")
        params.extend(cap(a) for a in criterion.activity_ids)
    if criterion.activity_prefix:
        prefix = cap(criterion.activity_prefix)
        where.append("substr(f.activity_id, 1, ?) = ?")
        params.extend([len(prefix), prefix])
    if criterion.activity_type:
        where.append("f.activity_type = ?")
        params.append(cap(criterion.activity_type))
    if criterion.parent_ids:
        where.append(f"f.parent_id IN ({marks(len(criterion.parent_ids))})")
        params.extend(cap(a) for a in criterion.parent_ids)
    if criterion.source != "any":
        where.append("f.source = ?")
        params.append(criterion.source)
    else:
        where.append("f.source <> ?")
        params.append(DERIVED)
    if criterion.min_score is not None:
        where.append("f.score >= ?")
        params.append(criterion.min_score)
    if criterion.success:
        where.append("f.success = ?")
        params.append(True)
    if criterion.completion:
        where.append("f.completion = ?")
        params.append(True)
    if criterion.with_response:
        where.append("f.has_response = ?")
        params.append(True)
    where.append(NOT_VOIDED)
    params.append(store_id)
    return "FROM learning_facts f WHERE " + " AND ".join(where), params


def _distinct(criterion: Criterion) -> str:
    return "f.activity_id" if criterion.count == "activities" else "f.fingerprint"


def count_criterion(
    session: Session,
    store_id: int,
    keys: list[int],
    criterion: Criterion,
    window: tuple[int, int],
    evidence: int = 0,
) -> CriterionProgress:
    """Count the distinct learning events (or activities) that meet ``criterion``.

    Voided statements never count; the same event sent twice or by two identities of one
    person counts once (facts share a fingerprint).
    """
    if not keys:
        return CriterionProgress(0, criterion.min_count)
    body, params = criterion_filter(store_id, keys, criterion, window)
    distinct = _distinct(criterion)
    count = run(session, f"SELECT COUNT(DISTINCT {distinct}) {body}", params).scalar() or 0
    found = evidence_ids(session, store_id, keys, criterion, window, evidence) if evidence else []
    return CriterionProgress(count, criterion.min_count, found)


def evidence_ids(
    session: Session,
    store_id: int,
    keys: list[int],
    criterion: Criterion,
    window: tuple[int, int],
    limit: int,
    offset: int = 0,
) -> list[str]:
    """The ids of the statements that count for ``criterion``, the latest first; one page."""
    if not keys:
        return []
    body, params = criterion_filter(store_id, keys, criterion, window)
    return list(
        run(
            session,
            "SELECT s.statement_id FROM statements s JOIN "
            f"(SELECT f.seq AS seq, MAX(f.at_ms) AS at_ms {body} GROUP BY f.seq "
            "ORDER BY 2 DESC, 1 DESC LIMIT ? OFFSET ?) e ON e.seq = s.seq "
            "ORDER BY e.at_ms DESC, e.seq DESC",
            [*params, limit, offset],
        ).scalars()
    )


def evidence_total(
    session: Session, store_id: int, keys: list[int], criterion: Criterion, window: tuple[int, int]
) -> int:
    """How many statements count for ``criterion`` (resends and identities each once per seq)."""
    if not keys:
        return 0
    body, params = criterion_filter(store_id, keys, criterion, window)
    return run(session, f"SELECT COUNT(DISTINCT f.seq) {body}", params).scalar() or 0


def met_at_ms(
    session: Session, store_id: int, keys: list[int], criterion: Criterion, window: tuple[int, int]
) -> int | None:
    """When the criterion became met: the time of its ``min_count``-th distinct event, or None."""
    body, params = criterion_filter(store_id, keys, criterion, window)
    return run(
        session,
        f"SELECT t FROM (SELECT MIN(f.at_ms) AS t {body} GROUP BY {_distinct(criterion)}) x "
        "ORDER BY t LIMIT 1 OFFSET ?",
        [*params, max(criterion.min_count, 1) - 1],
    ).scalar()


def deciding_ms(
    session: Session, objective: Objective, keys: list[int], window: tuple[int, int]
) -> int | None:
    """When a met objective became met, by its rule: the time of the deciding statement.

    ``all``: the last criterion to be met; ``any``: the first; ``k_of_n``: the k-th.
    """
    criteria = [Criterion.from_dict(c) for c in json.loads(objective.criteria)]
    times = sorted(
        t
        for t in (met_at_ms(session, objective.store_id, keys, c, window) for c in criteria)
        if t is not None
    )
    if not times:
        return None
    if objective.rule == "any":
        return times[0]
    if objective.rule == "k_of_n":
        needed = max(1, min(objective.k or 1, len(criteria)))
        return times[needed - 1] if len(times) >= needed else None
    return times[-1] if len(times) == len(criteria) else None


@dataclass
class Measured:
    """An objective with its measured progress."""

    objective: Objective
    progress: ObjectiveProgress
    criteria: list[Criterion]


def measure(
    session: Session,
    objective: Objective,
    keys: list[int],
    window: tuple[int, int],
    evidence: int = 0,
) -> Measured:
    criteria = [Criterion.from_dict(c) for c in json.loads(objective.criteria)]
    counted = [
        count_criterion(session, objective.store_id, keys, c, window, evidence) for c in criteria
    ]
    return Measured(objective, combine(objective.rule, objective.k, counted), criteria)


def objective_activity_id(base_url: str, objective: Objective) -> str:
    return f"{base_url.rstrip('/')}/objectives/{objective.id}"


def record_satisfaction(
    session: Session, measured: Measured, agents: list[dict], base_url: str, at: dt.datetime
) -> str | None:
    """Store the ``satisfied`` statement of a met objective, once; return its id if new.

    ``at`` is when it became met (the deciding statement's timestamp): the statement's
    timestamp and the objective's ``satisfied_at``. The statement id is derived from the
    objective, so a second attempt (a retried job) is an identical resend and stores nothing.
    """
    objective = measured.objective
    if not measured.progress.met or objective.satisfied_at is not None or not agents:
        return None
    statement_id = str(uuid.uuid5(NAMESPACE, f"objective:{objective.id}:satisfied"))
    evidence = [e for c in measured.progress.criteria for e in c.evidence][:50]
    statement = {
        "id": statement_id,
        "actor": next((a for a in agents if "mbox" in a), agents[0]),  # the most portable IFI
        "verb": {"id": SATISFIED, "display": {"en-US": "satisfied"}},
        "object": {
            "objectType": "Activity",
            "id": objective_activity_id(base_url, objective),
            "definition": {
                "type": OBJECTIVE_TYPE,
                "name": {"en-US": objective.title},
                **(
                    {"description": {"en-US": objective.description}}
                    if objective.description
                    else {}
                ),
            },
        },
        "result": {"success": True, "completion": True, "score": {"scaled": 1.0}},
        "context": {
            "contextActivities": {
                "parent": [{"id": f"{base_url.rstrip('/')}/reviews/{objective.review_id}"}]
            },
            "extensions": {v.EXT_EVIDENCE: evidence},
        },
        "timestamp": at.astimezone(dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }
    principal = api.source_principal(objective.store_id, "objectives", base_url.rstrip("/") + "/")
    api.write_statements(session, principal, [statement])
    objective.satisfied_at = at
    objective.satisfied_statement_id = statement_id
    session.flush()
    return statement_id


def objectives_of_review(session: Session, review: Review) -> list[Objective]:
    return list(
        session.scalars(
            select(Objective).where(Objective.review_id == review.id).order_by(Objective.id)
        )
    )
