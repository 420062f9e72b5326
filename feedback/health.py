"""Squad health checks and pulses: open, answer anonymously once, aggregate at k or more.

How anonymity holds:

- **Nothing ties an answer to a person** (``models.HealthAnswer``): no person, no account, no
  time, a random key, one row per question. The member row only says *whether* they answered.
- **One answer per member**: a member asks for a one-time participation token (only its
  SHA-256 is stored); the answer is accepted only by one conditional ``UPDATE`` that spends
  the token of a member who has not answered yet, in the transaction that stores the answers.
  A second attempt finds no such row: 409, nothing stored.
- **Only aggregates, only at k**: results exist once the check is closed (its last day passed,
  or the lead closed it) and at least *k* members answered; before that, every reader (pages,
  /api, CSV) gets the counts of members and answers and nothing else. Closing first means two
  results can never be subtracted to learn the latest answer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from feedback.common import bad, colleague, conflict, day_of, hidden, not_allowed
from feedback.models import HealthAnswer, HealthCheck, HealthCheckMember
from feedback.settings import k_of
from lrs import queue
from lrs.catalogue import M_, N_, Message
from lrs.people.models import Person
from lrs.sql import run
from objectives.accounts import Viewer, can_manage_person, reports_of
from objectives.models import ObjectiveTemplate, ReviewCycle

KINDS = ("squad", "pulse")
#: The notification each member gets when a check opens (``notifications.kinds``).
HEALTH_CHECK_OPENED = "health_check.opened"
#: Spotify's squad health check: the indicators a team rates green, amber or red.
SQUAD_INDICATORS = (
    ("releasing", N_("Easy to release")),
    ("process", N_("Suitable process")),
    ("quality", N_("Tech quality (code health)")),
    ("value", N_("Delivering value")),
    ("speed", N_("Speed")),
    ("mission", N_("Clear mission")),
    ("fun", N_("Fun")),
    ("learning", N_("Learning")),
    ("support", N_("Support")),
    ("autonomy", N_("Pawns or players")),
)
COLOURS = {"red": 1, "amber": 2, "green": 3}
TRENDS = {"worse": -1, "same": 0, "better": 1}
MAX_QUESTIONS = 12


@dataclass(frozen=True)
class Question:
    key: str
    label: str


def questions_of(check: HealthCheck) -> list[Question]:
    return [Question(q["key"], q["label"]) for q in json.loads(check.questions)]


def _label(check: HealthCheck, label: str) -> str:
    """A question's label as a message names it: a squad indicator's stays translatable."""
    return Message(label) if check.kind == "squad" else label


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def team_of(session: Session, store_id: int, lead_id: int) -> list[int]:
    """The lead and their direct reports who are active, by id."""
    people = {lead_id} | reports_of(session, store_id, lead_id)
    active = session.scalars(
        select(Person.id).where(
            Person.id.in_(people), Person.store_id == store_id, Person.deactivated_at.is_(None)
        )
    )
    return sorted(active)


def open_check(session: Session, viewer: Viewer, data: dict, now_ms: int) -> HealthCheck:
    """Open a check for a lead's team (the lead themselves, their managers, admins).

    ``data``: kind, title, opens_on, closes_on, and optionally lead_id (default: the viewer),
    questions (a pulse's, as labels; a squad check uses the squad indicators), cycle_id or
    template_id (the learning initiative it pulses). Raises a 400 naming the field for a team
    smaller than k (its results could never be shown), a window outside the cycle, or a closed
    cycle or retired template; 404 for a lead, cycle or template of another store.
    """
    lead_id = data.get("lead_id") or viewer.person_id
    if lead_id is None:
        raise bad("lead_id", M_("say whose team the check is for"))
    colleague(session, viewer.store_id, lead_id, "lead_id")
    if not (
        viewer.is_admin
        or lead_id == viewer.person_id
        or can_manage_person(session, viewer, lead_id)
    ):
        raise not_allowed(M_("only the team's lead, their managers and admins open its checks"))
    kind = data["kind"]
    if kind == "squad":
        questions = [{"key": key, "label": label} for key, label in SQUAD_INDICATORS]
    else:
        labels = [label.strip() for label in data.get("questions") or [] if label.strip()]
        if not 1 <= len(labels) <= MAX_QUESTIONS:
            raise bad("questions", M_("a pulse asks 1 to %(max)s questions", max=MAX_QUESTIONS))
        questions = [{"key": f"q{i + 1}", "label": label} for i, label in enumerate(labels)]
    if data["closes_on"] < data["opens_on"]:
        raise bad("closes_on", M_("must be on or after opens_on"))
    if data["closes_on"] < day_of(now_ms):
        raise bad("closes_on", M_("the window has already passed"))
    cycle_id, template_id = data.get("cycle_id"), data.get("template_id")
    if cycle_id is not None:
        cycle = session.get(ReviewCycle, cycle_id)
        if cycle is None or cycle.store_id != viewer.store_id:
            raise hidden("cycle_id", M_("no review cycle %(id)s", id=cycle_id))
        if cycle.closed_at is not None:
            raise bad(
                "cycle_id",
                M_("the cycle %(name)s is closed: pulse it while it runs", name=cycle.name),
            )
        if data["opens_on"] < cycle.starts_on or data["closes_on"] > cycle.ends_on:
            raise bad(
                "closes_on", M_("the window must lie within the cycle %(name)s", name=cycle.name)
            )
    if template_id is not None:
        template = session.get(ObjectiveTemplate, template_id)
        if template is None or template.store_id != viewer.store_id:
            raise hidden("template_id", M_("no template %(id)s", id=template_id))
        if template.retired_at is not None:
            raise bad("template_id", M_("the template %(title)s is retired", title=template.title))
    team = team_of(session, viewer.store_id, lead_id)
    k = k_of(session, viewer.store_id)
    if len(team) < k:
        raise bad(
            "lead_id",
            M_(
                "the team has %(people)s people; results need at least %(k)s answers, "
                "so they could never be shown",
                people=len(team),
                k=k,
            ),
        )
    check = HealthCheck(
        store_id=viewer.store_id,
        lead_id=lead_id,
        kind=kind,
        title=data["title"].strip(),
        questions=json.dumps(questions),
        opens_on=data["opens_on"],
        closes_on=data["closes_on"],
        cycle_id=cycle_id,
        template_id=template_id,
        created_ms=now_ms,
    )
    session.add(check)
    session.flush()
    for person_id in team:
        session.add(HealthCheckMember(check_id=check.id, person_id=person_id, answered=False))
    session.flush()
    # The members hear of it (inbox, e-mail) from the worker, never inside this request.
    queue.notify(
        session,
        viewer.store_id,
        HEALTH_CHECK_OPENED,
        {"check": check.id, "by": viewer.person_id},
        now_ms,
    )
    return check


def _member(session: Session, check_id: int, person_id: int | None) -> HealthCheckMember | None:
    if person_id is None:
        return None
    return session.get(HealthCheckMember, (check_id, person_id))


def get_check(session: Session, viewer: Viewer, check_id: int) -> HealthCheck:
    """A check the viewer may see: a member, the lead, an admin; 404 otherwise."""
    check = session.get(HealthCheck, check_id)
    if check is None or check.store_id != viewer.store_id:
        raise hidden("check_id", M_("no health check %(id)s", id=check_id))
    if viewer.is_admin or check.lead_id == viewer.person_id:
        return check
    if _member(session, check_id, viewer.person_id) is None:
        raise hidden("check_id", M_("no health check %(id)s", id=check_id))
    return check


def is_open(check: HealthCheck, now_ms: int) -> bool:
    today = day_of(now_ms)
    return check.closed_ms is None and check.opens_on <= today <= check.closes_on


def is_closed(check: HealthCheck, now_ms: int) -> bool:
    return check.closed_ms is not None or day_of(now_ms) > check.closes_on


def list_checks(session: Session, viewer: Viewer) -> list[HealthCheck]:
    """Checks the viewer leads or may answer (all of the store for admins), newest first."""
    query = select(HealthCheck).where(HealthCheck.store_id == viewer.store_id)
    if not viewer.is_admin:
        mine = select(HealthCheckMember.check_id).where(
            HealthCheckMember.person_id == viewer.person_id
        )
        query = query.where(or_(HealthCheck.lead_id == viewer.person_id, HealthCheck.id.in_(mine)))
    return list(session.scalars(query.order_by(HealthCheck.opens_on.desc(), HealthCheck.id.desc())))


def participation_token(session: Session, viewer: Viewer, check_id: int, now_ms: int) -> str:
    """A fresh one-time token for the viewer to answer with (a previous unspent one lapses).

    Raises 404 for a check the viewer is not a member of, 409 (path ``check_id``) when it is
    not open or the viewer has answered already.
    """
    check = get_check(session, viewer, check_id)
    member = _member(session, check.id, viewer.person_id)
    if member is None:
        raise hidden("check_id", M_("you are not a member of this check's team"))
    if member.answered:
        raise conflict("check_id", M_("you have answered this check already"))
    if not is_open(check, now_ms):
        raise conflict("check_id", M_("this check is not open for answers"))
    token = secrets.token_urlsafe(24)
    member.token_hash = _hash(token)
    session.flush()
    return token


def answer(
    session: Session, viewer: Viewer, check_id: int, token: str, answers: dict, now_ms: int
) -> None:
    """Store one member's answers anonymously and spend their token, or store nothing.

    ``answers``: for each question key, ``{"colour": red|amber|green, "trend": worse|same|
    better}`` (squad) or ``{"score": 1..5}`` (pulse); every question must be answered. Raises a
    400 naming the question for a missing or invalid answer, 409 (path ``token``) when the token
    is unknown or spent (answered already) or the check is not open.
    """
    check = get_check(session, viewer, check_id)
    if not is_open(check, now_ms):
        raise conflict("check_id", M_("this check is not open for answers"))
    rows = []
    for question in questions_of(check):
        given = answers.get(question.key)
        path = f"answers.{question.key}"
        if not isinstance(given, dict):
            raise bad(path, M_("answer “%(question)s”", question=_label(check, question.label)))
        if check.kind == "squad":
            colour, trend = given.get("colour"), given.get("trend")
            if colour not in COLOURS:
                raise bad(f"{path}.colour", M_("must be red, amber or green"))
            if trend not in TRENDS:
                raise bad(f"{path}.trend", M_("must be worse, same or better"))
            rows.append((question.key, COLOURS[colour], TRENDS[trend]))
        else:
            score = given.get("score")
            if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
                raise bad(
                    f"{path}.score",
                    M_("must be a whole number from %(min)s to %(max)s", min=1, max=5),
                )
            rows.append((question.key, score, None))
    unknown = set(answers) - {q.key for q in questions_of(check)}
    if unknown:
        raise bad(f"answers.{sorted(unknown)[0]}", M_("no such question in this check"))
    spent = run(
        session,
        "UPDATE health_check_members SET token_hash = NULL, answered = ? "
        "WHERE check_id = ? AND token_hash = ? AND answered = ?",
        [True, check.id, _hash(token or ""), False],
    )
    if spent.rowcount != 1:
        raise conflict("token", M_("this participation token is unknown or spent: one answer each"))
    for question, value, trend in rows:
        session.add(
            HealthAnswer(
                id=secrets.token_hex(16),
                store_id=check.store_id,
                check_id=check.id,
                question=question,
                value=value,
                trend=trend,
            )
        )
    session.flush()


def close_check(session: Session, viewer: Viewer, check_id: int, now_ms: int) -> HealthCheck:
    """Close a check before its last day (the lead, their managers, admins)."""
    check = get_check(session, viewer, check_id)
    if not (
        viewer.is_admin
        or check.lead_id == viewer.person_id
        or can_manage_person(session, viewer, check.lead_id)
    ):
        raise not_allowed(M_("only the team's lead, their managers and admins close its checks"))
    if check.closed_ms is None:
        check.closed_ms = now_ms
    session.flush()
    return check


def counts(session: Session, check_id: int) -> tuple[int, int]:
    """How many members the check has and how many answered (participation, never content)."""
    members, answered = session.execute(
        select(
            func.count(),
            func.count().filter(HealthCheckMember.answered.is_(True)),
        ).where(HealthCheckMember.check_id == check_id)
    ).one()
    return int(members), int(answered)


def results(session: Session, viewer: Viewer, check_id: int, now_ms: int) -> dict:
    """The check's aggregates, or why there are none yet (``shown`` false, no figures)."""
    check = get_check(session, viewer, check_id)
    return results_of(session, check, now_ms)


def results_of(session: Session, check: HealthCheck, now_ms: int) -> dict:
    members, answered = counts(session, check.id)
    k = k_of(session, check.store_id)
    closed = is_closed(check, now_ms)
    summary = {
        "check": check_json(check, now_ms),
        "members": members,
        "answered": answered,
        "k": k,
        "shown": False,
        "reason": None,
        "questions": [],
    }
    if not closed:
        summary["reason"] = "results are shown once the check has closed"
        return summary
    if answered < k:
        summary["reason"] = f"fewer than {k} people answered: nothing is shown"
        return summary
    tallies = _tallies(session, check.id)
    for question in questions_of(check):
        values, trends = tallies.get(question.key, (Counter(), Counter()))
        n = sum(values.values())
        if n < k:  # every member answers every question; a guard all the same
            return {**summary, "reason": f"fewer than {k} answers to a question: nothing is shown"}
        entry: dict = {
            "key": question.key,
            "label": question.label,
            "answers": n,
            "mean": round(sum(v * c for v, c in values.items()) / n, 2),
        }
        if check.kind == "squad":
            entry["colours"] = {name: values.get(value, 0) for name, value in COLOURS.items()}
            entry["trend"] = {name: trends.get(value, 0) for name, value in TRENDS.items()}
        else:
            entry["scores"] = {str(s): values.get(s, 0) for s in range(1, 6)}
        summary["questions"].append(entry)
    summary["shown"] = True
    return summary


def _tallies(session: Session, check_id: int) -> dict[str, tuple[Counter, Counter]]:
    found: dict[str, tuple[Counter, Counter]] = {}
    for question, value, trend, count in session.execute(
        select(HealthAnswer.question, HealthAnswer.value, HealthAnswer.trend, func.count())
        .where(HealthAnswer.check_id == check_id)
        .group_by(HealthAnswer.question, HealthAnswer.value, HealthAnswer.trend)
    ):
        values, trends = found.setdefault(question, (Counter(), Counter()))
        values[value] += count
        if trend is not None:
            trends[trend] += count
    return found


def trends(session: Session, viewer: Viewer, check_id: int, now_ms: int) -> list[dict]:
    """Each question's mean over the team's successive checks of the same kind, oldest first.

    A check whose results are not shown appears with its means null.
    """
    check = get_check(session, viewer, check_id)
    series = []
    for earlier in session.scalars(
        select(HealthCheck)
        .where(
            HealthCheck.store_id == check.store_id,
            HealthCheck.lead_id == check.lead_id,
            HealthCheck.kind == check.kind,
            HealthCheck.opens_on <= check.opens_on,
        )
        .order_by(HealthCheck.opens_on, HealthCheck.id)
    ):
        shown = results_of(session, earlier, now_ms)
        means = {q["key"]: q["mean"] for q in shown["questions"]}
        series.append(
            {
                "check_id": earlier.id,
                "title": earlier.title,
                "closes_on": earlier.closes_on.isoformat(),
                "means": {q.key: means.get(q.key) for q in questions_of(check)},
            }
        )
    return series


def check_json(check: HealthCheck, now_ms: int) -> dict:
    return {
        "id": check.id,
        "kind": check.kind,
        "title": check.title,
        "lead_id": check.lead_id,
        "questions": [{"key": q.key, "label": q.label} for q in questions_of(check)],
        "opens_on": check.opens_on.isoformat(),
        "closes_on": check.closes_on.isoformat(),
        "open": is_open(check, now_ms),
        "closed": is_closed(check, now_ms),
        "cycle_id": check.cycle_id,
        "template_id": check.template_id,
    }


def has_answered(session: Session, check_id: int, person_id: int | None) -> bool | None:
    """Whether the person answered (None: not a member). Shown only to the person."""
    member = _member(session, check_id, person_id)
    return None if member is None else member.answered


def results_csv(summary: dict) -> str:
    """The results as CSV: one row per question, aggregates only; a notice row when none."""
    out = io.StringIO()
    writer = csv.writer(out)
    kind = summary["check"]["kind"]
    if kind == "squad":
        header = ["question", "answers", "mean", "green", "amber", "red", "better", "same"]
        header.append("worse")
    else:
        header = ["question", "answers", "mean", "1", "2", "3", "4", "5"]
    writer.writerow(header)
    if not summary["shown"]:
        writer.writerow([f"no results: {summary['reason']}"])
        return out.getvalue()
    for q in summary["questions"]:
        if kind == "squad":
            c, t = q["colours"], q["trend"]
            row = [c["green"], c["amber"], c["red"], t["better"], t["same"], t["worse"]]
        else:
            row = [q["scores"][str(s)] for s in range(1, 6)]
        writer.writerow([q["label"], q["answers"], q["mean"], *row])
    return out.getvalue()
