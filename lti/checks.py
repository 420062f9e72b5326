"""A registration's connection check: the grade and roster services tested live, and their logs.

What the latest launch carried is in ``lti.grants``. ``try_grade_service`` and
``try_roster_service`` call the platform as the worker and the instructor's page would, and say
the answer in plain words (``lti.explain``). Callers own the session and the transaction;
nothing here commits, and the tries call the platform, so they run in a read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import UnsafeUrl
from lti import ags, explain, grades, grants, nrps
from lti import claims as c
from lti.errors import PlatformServiceError, ServiceNotGranted
from lti.models import (
    Context,
    GradeDelivery,
    Launch,
    Registration,
    ResourceLink,
    RosterLoad,
    utc,
)
from lti.platform_services import access_token, call_service, resolve_runtime
from lti.runtime import LtiRuntime


@dataclass(frozen=True)
class Check:
    """The outcome of one live test of a service, in words."""

    service: str
    ok: bool
    words: str


def _latest_graded_link(session: Session, registration: Registration) -> ResourceLink | None:
    return session.scalar(
        select(ResourceLink)
        .where(ResourceLink.registration_id == registration.id, ResourceLink.ags_scopes != "")
        .order_by(ResourceLink.updated_ms.desc(), ResourceLink.id.desc())
        .limit(1)
    )


def _latest_context(session: Session, registration: Registration) -> Context | None:
    return session.scalar(
        select(Context)
        .join(Launch, Launch.context_pk == Context.id)
        .where(Launch.registration_id == registration.id)
        .order_by(Launch.id.desc())
        .limit(1)
    )


def try_grade_service(
    session: Session, registration: Registration, *, runtime: LtiRuntime | None = None
) -> Check:
    """Ask the LMS for a token to send scores and for the course's gradebook columns."""
    rt = resolve_runtime(runtime)
    service = "grade service"
    if registration.last_launch is None:
        return Check(service, False, "no launch has come from this LMS yet: open Learnloop "
                     "from a course first, then test again")  # fmt: skip
    carried = grants.last_launch(registration) or {}
    link = _latest_graded_link(session, registration)
    # The latest launch of a placed activity says what the LMS grants now (Deep Linking
    # launches never carry the grade service, so they say nothing about it).
    withheld = carried.get("message_type") == c.RESOURCE_LINK_REQUEST and not carried.get("ags")
    if link is None or withheld:
        return Check(service, False, explain.grade_service_not_granted())
    said = []
    try:
        granted = set(link.ags_scopes.split())
        if ags.SCOPE_SCORE not in granted:
            raise ServiceNotGranted(explain.scope_not_granted([ags.SCOPE_SCORE]))
        access_token(session, registration, [ags.SCOPE_SCORE], rt)
        said.append("the LMS gives Learnloop a token to send scores")
        if granted & {ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY} and link.lineitems_url:
            columns = grades.line_items(session, link, runtime=rt)
            where = f"'{link.title}'" if link.title else "the latest placement's course"
            said.append(f"its gradebook of {where} has {len(columns)} column(s)")
    except (ServiceNotGranted, PlatformServiceError, UnsafeUrl) as failed:
        prefix = "; ".join(said)
        return Check(service, False, (prefix + ", but " if prefix else "") + failed.message)
    return Check(service, True, "; ".join(said))


def try_roster_service(
    session: Session, registration: Registration, *, runtime: LtiRuntime | None = None
) -> Check:
    """Ask the LMS for the first page of the latest course's members."""
    rt = resolve_runtime(runtime)
    service = "roster service"
    if registration.last_launch is None:
        return Check(service, False, "no launch has come from this LMS yet: open Learnloop "
                     "from a course first, then test again")  # fmt: skip
    context = _latest_context(session, registration)
    if context is None or not context.memberships_url:
        return Check(service, False, explain.roster_service_not_granted())
    try:
        answer = call_service(
            session,
            registration,
            [nrps.SCOPE],
            "GET",
            ags.with_query(context.memberships_url, limit=5),
            what="roster (names and roles) service",
            accept=nrps.MEDIA,
            runtime=rt,
        )
        _, members = nrps.parse_page(answer.json())
    except (PlatformServiceError, UnsafeUrl) as failed:
        return Check(service, False, failed.message)
    with_email = sum(1 for m in members if m.email)
    return Check(
        service,
        True,
        f"the LMS lists the members of '{context.title or context.context_id}' to Learnloop "
        f"({len(members)} on its first page, {with_email} with an email)",
    )


def grade_log(session: Session, registration: Registration, limit: int = 30) -> list[dict]:
    """The newest grade deliveries to this registration's gradebooks."""
    rows = session.execute(
        select(GradeDelivery, ResourceLink.title)
        .join(ResourceLink, ResourceLink.id == GradeDelivery.link_id)
        .where(ResourceLink.registration_id == registration.id)
        .order_by(GradeDelivery.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "when": utc(d.created_ms),
            "link": title or f"placement {d.link_id}",
            "subject": d.subject,
            "score": f"{d.score_given:g} / {d.score_maximum:g}",
            "outcome": d.outcome,
            "answer": d.answer,
        }
        for d, title in rows
    ]


def roster_log(session: Session, registration: Registration, limit: int = 30) -> dict:
    """The courses of this registration and the newest roster loads with the LMS's answers.

    Per course: whether the roster service is granted and when the roster was last loaded.
    """
    contexts = list(
        session.scalars(
            select(Context).where(Context.registration_id == registration.id).order_by(Context.id)
        )
    )
    titles = {ctx.id: ctx.title or ctx.context_id for ctx in contexts}
    loads = session.scalars(
        select(RosterLoad)
        .where(RosterLoad.registration_id == registration.id)
        .order_by(RosterLoad.id.desc())
        .limit(limit)
    )
    return {
        "courses": [
            {
                "course": titles[ctx.id],
                "roster_service": bool(ctx.memberships_url),
                "loaded": utc(ctx.roster_synced_ms) if ctx.roster_synced_ms else "",
            }
            for ctx in contexts
        ],
        "loads": [
            {
                "when": utc(load.created_ms),
                "course": titles.get(load.context_pk, "") if load.context_pk else "",
                "outcome": load.outcome,
                "answer": load.answer,
            }
            for load in loads
        ],
    }
