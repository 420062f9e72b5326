"""Insight for L&D and managers: does learning in a cycle go with better review outcomes.

The population is the reviews of one cycle the viewer may assess: every review of the cycle
for admins, the reviews of the people they manage for managers (their own excluded). Only
aggregates leave this module, and each figure is computed over a group of at least *k*
people (the store's setting), or it is withheld with the reason. Definitions:

- **Objectives met vs rating**: per review, the share of its objectives met (reviews without
  objectives are left out); per rating 1-5, the number of reviews and the mean share (a rating
  held by fewer than k reviews is withheld); Pearson's r of share against rating, with n.
- **Learning by source vs rating**: per person, learning events (distinct learning facts,
  voided ones excluded) of each source between the cycle's first and last day; per source the
  mean per person and Pearson's r of events against rating, with n (rated reviews).
- **Days from attached to met**: over the met objectives of the population, the median and
  mean days from attached to met (``satisfied_at - created_at``), with the number of
  objectives; withheld when fewer than k people have a met objective.
- **Templates met least often**: per template, the people it was attached to and the share
  of them who met it, lowest first; a template attached to fewer than k people is withheld.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.settings import k_of
from lrs import vocabulary as v
from lrs.catalogue import M_
from lrs.sql import marks, run
from objectives import progress as pg
from objectives import services as objective_services
from objectives.accounts import Viewer, can_manage_person
from objectives.errors import NotAllowed
from objectives.models import Objective, ObjectiveTemplate, Review

DAY_S = 24 * 3600


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None when either side does not vary."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _r(xs: list[float], ys: list[float], k: int) -> dict:
    if len(xs) < k:
        return {"r": None, "n": len(xs), "withheld": f"fewer than {k} people"}
    r = pearson(xs, ys)
    return {"r": None if r is None else round(r, 3), "n": len(xs), "withheld": None}


def population(session: Session, viewer: Viewer, cycle_id: int) -> list[Review]:
    cycle = objective_services.get_cycle(session, viewer, cycle_id)
    reviews = session.scalars(select(Review).where(Review.cycle_id == cycle.id).order_by(Review.id))
    if viewer.is_admin:
        return list(reviews)
    return [
        r
        for r in reviews
        if r.person_id != viewer.person_id and can_manage_person(session, viewer, r.person_id)
    ]


def for_cycle(session: Session, viewer: Viewer, cycle_id: int) -> dict:
    """The insight figures of one cycle (see the module); withheld below k people."""
    if not viewer.is_admin:
        objective_services.require_manager_role(session, viewer)
    cycle = objective_services.get_cycle(session, viewer, cycle_id)
    reviews = population(session, viewer, cycle.id)
    k = k_of(session, viewer.store_id)
    answer: dict = {
        "cycle": {"id": cycle.id, "name": cycle.name},
        "k": k,
        "people": len(reviews),
        "shown": len(reviews) >= k,
        "reason": None,
        "met_vs_rating": None,
        "learning_by_source": None,
        "days_to_met": None,
        "templates": None,
    }
    if len(reviews) < k:
        answer["reason"] = f"fewer than {k} people in this cycle that you may see: nothing is shown"
        return answer
    objectives = defaultdict(list)
    for objective in session.scalars(
        select(Objective).where(Objective.review_id.in_([r.id for r in reviews]))
    ):
        objectives[objective.review_id].append(objective)
    rated = [r for r in reviews if r.rating is not None]
    answer["met_vs_rating"] = _met_vs_rating(rated, objectives, k)
    answer["learning_by_source"] = _learning_by_source(session, viewer.store_id, cycle, rated, k)
    answer["days_to_met"] = _days_to_met(reviews, objectives, k)
    answer["templates"] = _templates(session, reviews, objectives, k)
    return answer


def _met_vs_rating(rated: list[Review], objectives: dict, k: int) -> dict:
    shares: list[float] = []
    ratings: list[float] = []
    by_rating: dict[int, list[float]] = defaultdict(list)
    for review in rated:
        attached = objectives.get(review.id, [])
        if not attached:
            continue
        share = sum(1 for o in attached if o.satisfied_at is not None) / len(attached)
        shares.append(share)
        ratings.append(review.rating)
        by_rating[review.rating].append(share)
    groups = []
    for rating in range(1, 6):
        values = by_rating.get(rating, [])
        if not values:
            continue
        shown = len(values) >= k
        groups.append(
            {
                "rating": rating,
                "reviews": len(values) if shown else None,
                "mean_share_met": round(sum(values) / len(values), 3) if shown else None,
                "withheld": None if shown else f"fewer than {k} people",
            }
        )
    return {"by_rating": groups, "correlation": _r(shares, ratings, k)}


def _learning_by_source(session: Session, store_id: int, cycle, rated: list[Review], k: int):
    identities = objective_services.identities_of_people(
        session, store_id, [r.person_id for r in rated]
    )
    start, end = pg._day_ms(cycle.starts_on), pg.day_end_ms(cycle.ends_on)
    counts: dict[int, dict[str, int]] = {}
    for review in rated:
        keys = pg.actor_keys(identities.get(review.person_id, []))
        found: dict[str, int] = {}
        if keys:
            sql = (
                "SELECT f.source, COUNT(DISTINCT f.fingerprint) FROM learning_facts f "  # noqa: S608
                f"WHERE f.store_id = ? AND f.actor_key IN ({marks(len(keys))}) "
                f"AND f.at_ms >= ? AND f.at_ms < ? AND {pg.NOT_VOIDED} GROUP BY f.source"
            )  # placeholders and constants only
            for source, n in run(session, sql, [store_id, *keys, start, end, store_id]):
                found[source] = int(n)
        counts[review.id] = found
    sources = []
    for source in v.SOURCES:
        events = [float(counts[r.id].get(source, 0)) for r in rated]
        ratings = [float(r.rating) for r in rated]
        shown = len(events) >= k
        sources.append(
            {
                "source": source,
                "name": v.SOURCE_LABELS[source],
                "mean_events": round(sum(events) / len(events), 2) if shown else None,
                "correlation": _r(events, ratings, k),
            }
        )
    return sources


def _days_to_met(reviews: list[Review], objectives: dict, k: int) -> dict:
    days: list[float] = []
    people = set()
    for review in reviews:
        for o in objectives.get(review.id, []):
            if o.satisfied_at is None or o.created_at is None:
                continue
            seconds = (_aware(o.satisfied_at) - _aware(o.created_at)).total_seconds()
            days.append(max(0.0, seconds / DAY_S))
            people.add(review.person_id)
    if len(people) < k:
        return {
            "objectives": None,
            "median": None,
            "mean": None,
            "withheld": f"fewer than {k} people",
        }
    return {
        "objectives": len(days),
        "median": round(statistics.median(days), 2),
        "mean": round(sum(days) / len(days), 2),
        "withheld": None,
    }


def _aware(moment):
    import datetime as dt

    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _templates(session: Session, reviews: list[Review], objectives: dict, k: int) -> list[dict]:
    attached: dict[int, set[int]] = defaultdict(set)
    met: dict[int, set[int]] = defaultdict(set)
    for review in reviews:
        for o in objectives.get(review.id, []):
            if o.template_id is None:
                continue
            attached[o.template_id].add(review.person_id)
            if o.satisfied_at is not None:
                met[o.template_id].add(review.person_id)
    titles = dict(
        session.execute(
            select(ObjectiveTemplate.id, ObjectiveTemplate.title).where(
                ObjectiveTemplate.id.in_(list(attached))
            )
        ).all()
    )
    rows = []
    for template_id, people in attached.items():
        if len(people) < k:
            continue
        rows.append(
            {
                "template_id": template_id,
                "title": titles.get(template_id, ""),
                "people": len(people),
                "met": len(met[template_id]),
                "share_met": round(len(met[template_id]) / len(people), 3),
            }
        )
    return sorted(rows, key=lambda row: (row["share_met"], row["title"]))


def insight_csv(answer: dict) -> str:
    """The figures as CSV (figure, group, value, n); one notice row when nothing is shown."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["figure", "group", "value", "n"])
    if not answer["shown"]:
        w.writerow(["nothing shown", answer["reason"], "", ""])
        return out.getvalue()
    mvr = answer["met_vs_rating"]
    for g in mvr["by_rating"]:
        w.writerow(
            [
                "mean share of objectives met",
                f"rating {g['rating']}",
                g["mean_share_met"],
                g["reviews"],
            ]
        )
    c = mvr["correlation"]
    w.writerow(["r (share met, rating)", "all", c["r"], c["n"]])
    for s in answer["learning_by_source"]:
        w.writerow(["mean learning events", s["name"], s["mean_events"], s["correlation"]["n"]])
        w.writerow(["r (events, rating)", s["name"], s["correlation"]["r"], s["correlation"]["n"]])
    d = answer["days_to_met"]
    w.writerow(["median days attached to met", "all", d["median"], d["objectives"]])
    w.writerow(["mean days attached to met", "all", d["mean"], d["objectives"]])
    for t in answer["templates"]:
        w.writerow(["share met", t["title"], t["share_met"], t["people"]])
    return out.getvalue()


def set_rating(session: Session, viewer: Viewer, review_id: int, rating: int | None) -> Review:
    """The review's outcome, 1-5 (or none): the employee's managers and admins set it."""
    review = objective_services.get_review(session, viewer, review_id)
    if not can_manage_person(session, viewer, review.person_id):
        raise NotAllowed(M_("only the employee's managers and admins rate this review"))
    review.rating = rating
    session.flush()
    return review
