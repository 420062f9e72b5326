"""Objectives inside the LMS: place templates with Deep Linking, show progress, send grades.

Installed by the app factory when the LTI tool runs (this package and ``lti`` stay independent
of each other otherwise):

* an instructor can place an objective template in a course (Deep Linking, with a line item);
* a learner's landing page after a launch shows their objectives' progress;
* when an objective made from a placed template is met, the worker leaves a grade job for that
  link's gradebook column; a graded learning activity gets the learner's best score the same
  way (``lti.tasks`` sends them, with retries and a delivery log).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.catalogue import M_, N_
from objectives.models import Objective, ObjectiveTemplate, Review, ReviewCycle

log = logging.getLogger("learnloop.objectives")


class TemplatePlacements:
    """Objective templates as Deep Linking placements."""

    kind = "objective-template"
    label = N_("Objective template")

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
            raise DeepLinkingRejected(
                M_("there is no objective template %(key)s in this store", key=repr(key))
            )
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
    """The learner's objectives of their latest review, for the LTI landing page.

    In the page's language (the launch's locale; Flask-Babel's catalogue of the pages).
    """
    from flask_babel import format_date, get_locale
    from flask_babel import gettext as _

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
        state = _("met") if measured.progress.met else f"{round(measured.progress.percent)}%"
        line = _("%(title)s: %(state)s", title=objective.title, state=state)
        if objective.due_on:
            english = str(get_locale() or "en") == "en"  # English pages keep ISO dates
            due = objective.due_on.isoformat() if english else format_date(objective.due_on)
            line = _(
                "%(title)s: %(state)s, due %(due)s", title=objective.title, state=state, due=due
            )
        lines.append(line)
    title = _("Your objectives (%(cycle)s)", cycle=cycle.name)
    return Panel(title=title, lines=lines) if lines else None


def viewer_from_launch(session: Session, token: str):
    """Sign-in through an LTI launch: the launched person's account (made on first launch).

    Returns the viewer and the platform's origins (for ``frame-ancestors``). Raises the LTI
    package's LaunchTokenInvalid for a missing, forged or expired token.
    """
    viewer, origins, _ = launch_sign_in(session, token)
    return viewer, origins


def launch_sign_in(session: Session, token: str):
    """``viewer_from_launch`` and the launch's locale.

    The locale is the launch's ``launch_presentation.locale`` (None if the LMS sent none): the
    pages are shown in it.
    """
    from lti import launches, registrations, runtime
    from lti.models import Registration
    from objectives.accounts import find_account, viewer_of
    from objectives.errors import NotAllowed

    launch = launches.open_launch_token(session, token, runtime().now())
    if launch.person_id is None:
        raise NotAllowed(M_("this launch has no learner; open Learnloop from your course"))
    registration = session.get(Registration, launch.registration_id)
    origins = registrations.platform_origins(registration) if registration else []
    account = find_account(session, launch.store_id, launch.person_id)
    if account is None or account.disabled_at is not None:
        raise NotAllowed(M_("no account for this launch; launch Learnloop again from the course"))
    return viewer_of(account), origins, launches.launch_settings(launch).get("locale")


def ensure_account(session: Session, launch) -> None:
    """Sign-in through an LTI launch: a launched person gets an account (no password) once."""
    from objectives.accounts import account_for_person

    if launch.person_id is not None:
        account_for_person(session, launch.store_id, launch.person_id)


def submission_review(session: Session, launch, learner_id: int, link, token: str) -> str:
    """Where an instructor's submission review lands: the learner's evidence for the objective.

    A template placement leads to the learner's newest objective from that template, on its
    review page (``#objective-N``); an activity placement to the learner's record. Only for an
    instructor whose Learnloop role lets them read it (the learner's manager, a reviewer of
    the review, an administrator): the LMS's instructor role does not open performance reviews.
    Raises NotAllowed (403) or Hidden (404) saying why not.
    """
    from flask import url_for

    from objectives import services as svc
    from objectives.accounts import find_account, viewer_of
    from objectives.errors import Hidden, NotAllowed

    account = find_account(session, launch.store_id, launch.person_id)
    if account is None or account.disabled_at is not None:
        raise NotAllowed(M_("no Learnloop account for this launch; launch Learnloop again"))
    viewer = viewer_of(account)
    refused = M_(
        "in Learnloop you are not this learner's manager, a reviewer of their review or an "
        "administrator, so their evidence is not yours to open"
    )
    if not link.objective_template or not link.objective_template.isdigit():
        try:
            svc.get_record_subject(session, viewer, learner_id)
        except Hidden:
            raise NotAllowed(refused) from None
        return url_for("web.person", person_id=learner_id, lt=token)
    objective = session.scalar(
        select(Objective)
        .join(Review, Review.id == Objective.review_id)
        .where(
            Review.store_id == launch.store_id,
            Review.person_id == learner_id,
            Objective.template_id == int(link.objective_template),
        )
        .order_by(Objective.id.desc())
        .limit(1)
    )
    if objective is None:
        raise Hidden(M_("the objective placed here is not in this learner's reviews"))
    try:
        svc.get_review(session, viewer, objective.review_id)
    except Hidden:
        raise NotAllowed(refused) from None
    return url_for(
        "web.review", review_id=objective.review_id, lt=token, _anchor=f"objective-{objective.id}"
    )


def install(app) -> None:
    rt = app.extensions["lti"]
    rt.submission_review = submission_review
    provider = TemplatePlacements()
    rt.placement_providers[provider.kind] = provider
    rt.learner_panels.append(objectives_panel)
    rt.launch_hooks.append(ensure_account)
    rt.launch_hooks.append(grade_on_launch)


def enqueue_objective_grades(
    session: Session, objective: Objective, person_id: int, now_ms: int
) -> int:
    """Leave a grade job for each LMS line item placed for the met objective's template.

    Only where the learner has launched from that course (the platform's user id is known); a
    later first launch there sends it then (``grade_on_launch``). Returns how many.
    """
    from lti import grades

    if objective.template_id is None:
        return 0
    sent = 0
    for link in grades.resource_links(
        session, objective.store_id, objective_template=str(objective.template_id)
    ):
        if grades.user_sub_for(session, link, person_id):
            _grade_objective(session, link, objective, person_id, now_ms)
            sent += 1
    return sent


def _grade_objective(session: Session, link, objective: Objective, person_id: int, now_ms: int):
    from lti.tasks import enqueue_grade

    enqueue_grade(
        session,
        link,
        person_id,
        subject=f"objective:{objective.id}",
        score_given=1.0,
        score_maximum=1.0,
        comment=f"Objective met: {objective.title}",
        now_ms=now_ms,
    )


def best_score(session: Session, store_id: int, person_id: int, activity_id: str) -> float | None:
    """The learner's best scaled score on an activity (voided statements never count)."""
    from lrs.people.services import identities
    from lrs.sql import marks, run
    from objectives import progress as pg

    keys = pg.actor_keys(identities(session, store_id, person_id))
    if not keys:
        return None
    return run(
        session,
        f"SELECT MAX(f.score) FROM learning_facts f WHERE f.store_id = ? AND f.actor_key IN "
        f"({marks(len(keys))}) AND f.activity_id = ? AND f.score IS NOT NULL AND {pg.NOT_VOIDED}",
        [store_id, *keys, activity_id, store_id],
    ).scalar()


def enqueue_activity_grades(
    session: Session, store_id: int, scored: dict[int, set[str]], now_ms: int
) -> None:
    """Leave a grade job for each graded placement of an activity these people just scored on."""
    from lti.models import ResourceLink

    activities = sorted({a for ids in scored.values() for a in ids})
    links: dict[str, list] = {}
    for i in range(0, len(activities), 500):
        for link in session.scalars(
            select(ResourceLink).where(
                ResourceLink.store_id == store_id,
                ResourceLink.placed_activity.in_(activities[i : i + 500]),
                ResourceLink.lineitem_url.is_not(None),
            )
        ):
            links.setdefault(link.placed_activity, []).append(link)
    if not links:
        return
    for person_id, ids in scored.items():
        for activity_id in ids & set(links):
            for link in links[activity_id]:
                _grade_activity(session, link, person_id, activity_id, now_ms)


def _grade_activity(session: Session, link, person_id: int, activity_id: str, now_ms: int) -> None:
    from lti import grades
    from lti.tasks import enqueue_grade

    if not grades.user_sub_for(session, link, person_id):
        return
    score = best_score(session, link.store_id, person_id, activity_id)
    if score is None:
        return
    enqueue_grade(
        session,
        link,
        person_id,
        subject=f"activity:{activity_id}"[:250],
        score_given=round(max(0.0, min(score, 1.0)), 4),
        score_maximum=1.0,
        comment=f"Best score on {link.title or activity_id}",
        now_ms=now_ms,
    )


def grade_on_launch(session: Session, launch) -> None:
    """A learner's first launch from a course can be the moment their grade can go there."""
    from lti.models import ResourceLink

    if launch.person_id is None or launch.resource_link_pk is None:
        return
    link = session.get(ResourceLink, launch.resource_link_pk)
    if link is None:
        return
    if link.objective_template and link.objective_template.isdigit():
        for objective in session.scalars(
            select(Objective)
            .join(Review, Review.id == Objective.review_id)
            .where(
                Objective.store_id == link.store_id,
                Objective.template_id == int(link.objective_template),
                Objective.satisfied_at.is_not(None),
                Review.person_id == launch.person_id,
            )
        ):
            _grade_objective(session, link, objective, launch.person_id, launch.created_ms)
    if link.placed_activity and link.lineitem_url:
        _grade_activity(session, link, launch.person_id, link.placed_activity, launch.created_ms)
