"""Objectives inside the LMS: place templates with Deep Linking, show progress, send grades.

Installed by the app factory when the LTI tool runs (this package and ``lti`` stay independent
of each other otherwise):

* an instructor can place an objective template in a course (Deep Linking, with a line item);
* a learner's landing page after a launch shows their objectives' progress;
* when an objective made from a placed template is met, its score goes to that link's
  gradebook column, after the transaction that recorded it commits.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.db import write_transaction
from objectives.models import Objective, ObjectiveTemplate, Review, ReviewCycle

log = logging.getLogger("learnloop.objectives")
OBJECTIVE_MET = "learnloop.objective_met"


class TemplatePlacements:
    """Objective templates as Deep Linking placements."""

    kind = "objective-template"
    label = "Objective template"

    def options(self, session: Session, store_id: int):
        templates = session.scalars(
            select(ObjectiveTemplate)
            .where(ObjectiveTemplate.store_id == store_id)
            .order_by(ObjectiveTemplate.title)
        )
        return [self._placement(t) for t in templates]

    def resolve(self, session: Session, store_id: int, key: str, title: str = ""):
        from lti.errors import DeepLinkingRejected

        template = session.get(ObjectiveTemplate, int(key)) if key.isdigit() else None
        if template is None or template.store_id != store_id:
            raise DeepLinkingRejected(f"there is no objective template {key!r} in this store")
        return self._placement(template, title)

    def _placement(self, template: ObjectiveTemplate, title: str = ""):
        from lti.deep_linking import Placement
        from lti.statements import CUSTOM_OBJECTIVE_TEMPLATE

        return Placement(
            kind=self.kind,
            key=str(template.id),
            title=(title or template.title)[:200],
            text=template.description[:500],
            custom={CUSTOM_OBJECTIVE_TEMPLATE: str(template.id)},
            resource_id=f"objective-template:{template.id}",
        )


def objectives_panel(session: Session, store_id: int, person_id: int):
    """The learner's objectives of their latest review, for the LTI landing page."""
    from lrs.people.services import identities
    from lti.runtime import Panel
    from objectives import progress as pg

    review = session.scalar(
        select(Review)
        .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
        .where(Review.store_id == store_id, Review.person_id == person_id)
        .order_by(ReviewCycle.starts_on.desc())
        .limit(1)
    )
    if review is None:
        return None
    cycle = session.get(ReviewCycle, review.cycle_id)
    keys = pg.actor_keys(identities(session, store_id, person_id))
    lines = []
    for objective in pg.objectives_of_review(session, review):
        measured = pg.measure(session, objective, keys, pg.cycle_window(cycle))
        due = f", due {objective.due_on.isoformat()}" if objective.due_on else ""
        state = "met" if measured.progress.met else f"{round(measured.progress.percent)}%"
        lines.append(f"{objective.title}: {state}{due}")
    return Panel(title=f"Your objectives ({cycle.name})", lines=lines) if lines else None


def grade_when_met(app) -> None:
    """Send met objectives' scores to the LMS gradebook columns of their placed templates."""

    def send(store_id: int, objective_id: int) -> None:
        from lti import grades, runtime
        from lti.errors import LtiError

        sessions = app.extensions["lrs"].sessions
        with write_transaction(sessions) as session:
            objective = session.get(Objective, objective_id)
            if objective is None or objective.template_id is None or objective.grade_posted_at:
                return
            review = session.get(Review, objective.review_id)
            links = grades.resource_links(
                session, store_id, objective_template=str(objective.template_id)
            )
            sent = False
            for link in links:
                user_sub = grades.user_sub_for(session, link, review.person_id)
                if not user_sub:
                    continue
                try:
                    grades.post_score(
                        session,
                        link,
                        user_sub,
                        1.0,
                        1.0,
                        "Completed",
                        "FullyGraded",
                        f"Objective met: {objective.title}",
                        runtime=runtime(),
                    )
                    sent = True
                except LtiError as exc:
                    log.warning("grade for objective %s not sent: %s", objective_id, exc.message)
            if sent:
                objective.grade_posted_at = dt.datetime.now(dt.UTC)

    app.extensions.setdefault(OBJECTIVE_MET, []).append(send)


def viewer_from_launch(session: Session, token: str):
    """Sign-in through an LTI launch: the launched person's account (made on first launch).

    Returns the viewer and the platform's origins (for ``frame-ancestors``). Raises the LTI
    package's LaunchTokenInvalid for a missing, forged or expired token.
    """
    from lti import launches, registrations, runtime
    from lti.models import Registration
    from objectives.accounts import find_account, viewer_of
    from objectives.errors import NotAllowed

    launch = launches.open_launch_token(session, token, runtime().now())
    if launch.person_id is None:
        raise NotAllowed("this launch has no learner; open Learnloop from your course")
    registration = session.get(Registration, launch.registration_id)
    origins = registrations.platform_origins(registration) if registration else []
    account = find_account(session, launch.store_id, launch.person_id)
    if account is None or account.disabled_at is not None:
        raise NotAllowed("no account for this launch; launch Learnloop again from the course")
    return viewer_of(account), origins


def ensure_account(session: Session, launch) -> None:
    """Sign-in through an LTI launch: a launched person gets an account (no password) once."""
    from objectives.accounts import account_for_person

    if launch.person_id is not None:
        account_for_person(session, launch.store_id, launch.person_id)


def install(app) -> None:
    rt = app.extensions["lti"]
    provider = TemplatePlacements()
    rt.placement_providers[provider.kind] = provider
    rt.learner_panels.append(objectives_panel)
    rt.launch_hooks.append(ensure_account)
    grade_when_met(app)


def schedule_grades(session: Session, store_id: int, objective_id: int) -> None:
    """After this transaction commits, hand a newly met objective to the grade senders."""
    from flask import has_app_context

    from lrs.db import after_commit

    if not has_app_context():
        return
    for send in current_app.extensions.get(OBJECTIVE_MET, []):
        after_commit(session, lambda send=send: send(store_id, objective_id))
