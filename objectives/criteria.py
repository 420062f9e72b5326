"""Measurable criteria and how they combine into an objective's progress (pure).

A criterion is an xAPI condition: which verbs, which activities (ids, an id prefix or a type),
which source, how many distinct learning events (or distinct activities), with what result,
within which window. Counting happens in SQL (``objectives.services``); this module decides
what the counts mean: percent complete, met or not, and the objective's rule (all, any, k of n).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from babel.lists import format_list
from flask_babel import get_locale, gettext, ngettext

from lrs.catalogue import N_
from lrs.vocabulary import name_of

#: Where the learning must come from, as a description says it.
SOURCE_WORDS = {
    "any": N_("anywhere"),
    "lms": N_("in the LMS"),
    "code_review": N_("in code review"),
    "microlearning": N_("in micro-learning"),
    "xapi": N_("in other xAPI tools"),
}


def _either(names: list[str]) -> str:
    """``a or b or c`` (English, as it always read) or the locale's own list of alternatives."""
    locale = str(get_locale() or "en")
    return " or ".join(names) if locale == "en" else format_list(names, style="or", locale=locale)


@dataclass(frozen=True)
class Criterion:
    """One condition of an objective. Built from validated data (``schemas.objectives``)."""

    verbs: tuple[str, ...] = ()
    activity_ids: tuple[str, ...] = ()
    activity_prefix: str | None = None
    activity_type: str | None = None
    #: Activities inside these (their statement's ``contextActivities.parent``): a trail, a course.
    parent_ids: tuple[str, ...] = ()
    source: str = "any"
    min_count: int = 1
    count: str = "statements"
    min_score: float | None = None
    success: bool | None = None
    completion: bool | None = None
    with_response: bool = False
    window_start_ms: int | None = None
    window_end_ms: int | None = None
    label: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> Criterion:
        values = dict(data)
        for key in ("verbs", "activity_ids", "parent_ids"):
            values[key] = tuple(values.get(key) or ())
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The criterion in plain words, for pages and reviews.

        ``names``: the activities' names (from the statements that defined them); an activity
        without one is named by the last segment of its IRI.
        """
        if self.label:
            return self.label
        names = names or {}
        verbs = _either([gettext(name_of(v)) for v in self.verbs]) or gettext("any verb")
        if self.activity_ids:
            named = ", ".join(names.get(a) or name_of(a) for a in self.activity_ids)
            target = (
                gettext("of: %(activities)s", activities=named)
                if self.count == "activities"
                else gettext("on %(activities)s", activities=named)
            )
        elif self.activity_prefix:
            target = gettext("on activities under %(prefix)s", prefix=self.activity_prefix)
        elif self.activity_type:
            target = gettext("on %(type)s activities", type=gettext(name_of(self.activity_type)))
        else:
            target = gettext("on any activity")
        if self.parent_ids:
            parents = _either([names.get(p) or name_of(p) for p in self.parent_ids])
            target = gettext("%(target)s in %(parents)s", target=target, parents=parents)
        n = self.min_count
        if self.count == "activities":
            amount = ngettext(
                "%(count)s different activity", "%(count)s different activities", n, count=n
            )
        else:
            amount = ngettext("once", "%(count)s times", n, count=n)
        parts = [
            gettext("%(verbs)s %(target)s, %(amount)s", verbs=verbs, target=target, amount=amount),
            gettext(SOURCE_WORDS[self.source]),
        ]
        if self.min_score is not None:
            score = f"{round(self.min_score * 100)}%"
            parts.append(gettext("with a score of at least %(score)s", score=score))
        if self.success:
            parts.append(gettext("successfully"))
        if self.completion:
            parts.append(gettext("completed"))
        if self.with_response:
            parts.append(gettext("with a written response"))
        return " ".join(parts)


@dataclass
class CriterionProgress:
    """How far a learner is on one criterion, and the statements that count."""

    count: int
    required: int
    evidence: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.count >= self.required

    @property
    def percent(self) -> float:
        return 100.0 if self.required <= 0 else min(100.0, 100.0 * self.count / self.required)


@dataclass
class ObjectiveProgress:
    percent: float
    met: bool
    criteria: list[CriterionProgress]


def combine(rule: str, k: int | None, criteria: list[CriterionProgress]) -> ObjectiveProgress:
    """An objective's progress from its criteria.

    ``all``: every criterion met; percent is the mean. ``any``: one is enough; percent is the
    best. ``k_of_n``: k criteria met; percent is the mean of the k best.
    """
    if not criteria:
        return ObjectiveProgress(0.0, False, criteria)
    percents = sorted((c.percent for c in criteria), reverse=True)
    met_count = sum(c.met for c in criteria)
    if rule == "any":
        return ObjectiveProgress(percents[0], met_count >= 1, criteria)
    if rule == "k_of_n":
        needed = max(1, min(k or 1, len(criteria)))
        best = percents[:needed]
        return ObjectiveProgress(sum(best) / needed, met_count >= needed, criteria)
    return ObjectiveProgress(sum(percents) / len(percents), met_count == len(criteria), criteria)
