"""Grades as jobs: each score for an LMS gradebook is a job of the durable queue, logged.

``enqueue_grade`` leaves a job in the caller's transaction (a pending job of the same key is
updated to the newest score); the worker runs ``send_grade``: it prepares the score (the rising
AGS timestamp) in one short transaction, calls the platform outside any write transaction (so
SQLite's writers never wait on an LMS), and writes what happened to ``lti_grade_deliveries``,
the log admins read on the LMS page. A score identical to one already delivered for the same
thing is not sent again. Failures say their real cause; outages and 5xx are retried with
backoff, refusals that only an administrator can fix end the job at once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import queue
from lrs.db import read_transaction, write_transaction
from lrs.errors import NotFound, SecretsUnavailable, UnsafeUrl
from lrs.queue import ClaimedJob, JobFailed
from lrs.runtime import lrs_runtime
from lti.errors import LtiError, PlatformServiceError, ServiceNotGranted
from lti.grades import prepare_score, send_score, user_sub_for
from lti.keys import current_key
from lti.models import GradeDelivery, ResourceLink
from lti.runtime import runtime as lti_runtime

GRADE = "grade"

#: Answers of the platform that only an administrator can change: the job ends at once, with
#: the platform's answer in its terms (``lti.explain``); anything else is retried.
REFUSALS = frozenset({400, 401, 403, 404, 415, 422})


def enqueue_grade(
    session: Session,
    link: ResourceLink,
    person_id: int,
    *,
    subject: str,
    score_given: float,
    score_maximum: float,
    comment: str,
    now_ms: int,
) -> None:
    """Leave the job that sends this score for this person to the link's gradebook column.

    ``subject`` names what is graded (``objective:12``, ``activity:<IRI>``): one job per link,
    person and subject waits at a time, carrying the newest score.
    """
    payload = {
        "link": link.id,
        "person": person_id,
        "subject": subject,
        "score_given": score_given,
        "score_maximum": score_maximum,
        "comment": comment[:500],
    }
    queue.enqueue(
        session,
        link.store_id,
        GRADE,
        f"{subject}|link:{link.id}|person:{person_id}"[:300],
        payload,
        now_ms=now_ms,
        replace=True,
    )


def already_delivered(session: Session, link_id: int, user_sub: str, payload: dict) -> bool:
    """Whether this exact score for this subject already reached this link's gradebook."""
    last = session.scalar(
        select(GradeDelivery)
        .where(
            GradeDelivery.link_id == link_id,
            GradeDelivery.user_sub == user_sub,
            GradeDelivery.subject == payload["subject"],
            GradeDelivery.outcome == "sent",
        )
        .order_by(GradeDelivery.id.desc())
        .limit(1)
    )
    return (
        last is not None
        and last.score_given == payload["score_given"]
        and last.score_maximum == payload["score_maximum"]
    )


def send_grade(job: ClaimedJob) -> None:
    """Deliver one grade job (the worker's handler for ``grade``)."""
    sessions = lrs_runtime().sessions
    rt = lti_runtime()
    payload = job.payload
    with write_transaction(sessions) as session:
        link = session.get(ResourceLink, payload["link"])
        if link is None or link.store_id != job.store_id:
            raise JobFailed("the course placement was deleted", permanent=True)
        user_sub = user_sub_for(session, link, payload["person"])
        if user_sub is None:
            raise JobFailed(
                "the learner has not launched Learnloop from this course", permanent=True
            )
        if already_delivered(session, link.id, user_sub, payload):
            return
        try:
            # the client assertion's key exists before the platform is called
            current_key(session, rt.now(), rt.key_box())
            call = prepare_score(
                session,
                link,
                user_sub,
                payload["score_given"],
                payload["score_maximum"],
                comment=payload["comment"],
                runtime=rt,
            )
        except (ServiceNotGranted, NotFound, UnsafeUrl) as refusal:
            _log(session, job, link, user_sub, "failed", 0, refusal.message)
            raise JobFailed(refusal.message, permanent=True) from None
    try:
        with read_transaction(sessions) as session:
            status = send_score(session, call, runtime=rt)
    except PlatformServiceError as error:
        permanent = error.upstream_status in REFUSALS
        if permanent:
            message = error.message
        elif error.upstream_status == 0:
            message = f"the LMS could not be reached ({error.message}); will retry"
        else:
            message = f"{error.message}; will retry"
        with write_transaction(sessions) as session:
            _log(
                session,
                job,
                link,
                user_sub,
                "failed" if permanent else "error",
                error.upstream_status,
                message,
            )
        raise JobFailed(message, permanent=permanent) from None
    except SecretsUnavailable as error:  # the operator's key: retried once it is fixed
        with write_transaction(sessions) as session:
            _log(session, job, link, user_sub, "error", 0, error.message)
        raise JobFailed(error.message) from None
    except (LtiError, UnsafeUrl) as error:  # a line item URL the guard refuses, ...
        with write_transaction(sessions) as session:
            _log(session, job, link, user_sub, "failed", 0, error.message)
        raise JobFailed(error.message, permanent=True) from None
    with write_transaction(sessions) as session:
        _log(session, job, link, user_sub, "sent", status, f"HTTP {status}", call.timestamp)


def _log(
    session: Session,
    job: ClaimedJob,
    link: ResourceLink,
    user_sub: str,
    outcome: str,
    status: int,
    answer: str,
    timestamp: str | None = None,
) -> None:
    payload = job.payload
    session.add(
        GradeDelivery(
            store_id=job.store_id,
            link_id=link.id,
            person_id=payload["person"],
            user_sub=user_sub,
            subject=payload["subject"],
            score_given=payload["score_given"],
            score_maximum=payload["score_maximum"],
            attempt=job.attempts,
            outcome=outcome,
            status=status,
            answer=answer[:500],
            score_timestamp=timestamp,
            created_ms=lrs_runtime().clock(),
        )
    )


def deliveries(session: Session, store_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The newest grade deliveries of a store, for the LMS admin page."""
    rows = session.execute(
        select(GradeDelivery, ResourceLink.title)
        .join(ResourceLink, ResourceLink.id == GradeDelivery.link_id)
        .where(GradeDelivery.store_id == store_id)
        .order_by(GradeDelivery.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "when_ms": d.created_ms,
            "link": title or f"link {d.link_id}",
            "subject": d.subject,
            "person_id": d.person_id,
            "score": f"{d.score_given:g} / {d.score_maximum:g}",
            "attempt": d.attempt,
            "outcome": d.outcome,
            "answer": d.answer,
        }
        for d, title in rows
    ]


def failed_grades(session: Session, store_id: int) -> list[dict[str, Any]]:
    """Grade jobs that ended failed, with the reason, for the LMS admin page."""
    from lrs.sql import run

    return [
        {"id": row[0], "payload": json.loads(row[1]), "attempts": row[2], "reason": row[3]}
        for row in run(
            session,
            "SELECT id, payload, attempts, last_error FROM jobs WHERE store_id = ? AND kind = ? "
            "AND state = 'failed' ORDER BY id DESC LIMIT 50",
            [store_id, GRADE],
        ).all()
    ]
