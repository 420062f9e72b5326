"""Payloads of the feedback API: health checks, after-action reviews, mentoring, insight.

Validation errors are answered with 400 and the path of each defect.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.fields import Id, is_iri
from schemas.objectives import MAX_CRITERIA, RULES, CriterionSchema, JsonDate, Strict

KINDS = ("squad", "pulse")
MAX_TEXT = 10_000


def _iri(value: str) -> None:
    if not is_iri(value):
        raise ValidationError("must be an IRI (an address)")


def _text(limit: int = MAX_TEXT, required: bool = False):
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=limit))
    return fields.String(load_default="", validate=validate.Length(max=limit))


class FeedbackSettingsSchema(Strict):
    k = fields.Integer(strict=True, required=True, validate=validate.Range(min=3, max=1000))


class HealthCheckSchema(Strict):
    """A squad health check or a pulse for a lead's team, over a window of days."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = _text(200, required=True)
    opens_on = JsonDate(required=True)
    closes_on = JsonDate(required=True)
    lead_id = Id(load_default=None)
    questions = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=12),
    )
    cycle_id = Id(load_default=None)
    template_id = Id(load_default=None)


class AnswerSchema(Strict):
    """One member's answers, with the one-time participation token."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=100))
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)), required=True
    )


class LinkSchema(Strict):
    url = fields.String(required=True, validate=[validate.Length(max=2000), _iri])
    label = _text(200)


class ActionSchema(Strict):
    text = _text(300, required=True)
    owner_id = Id(required=True)
    due_on = JsonDate(load_default=None)


class AfterActionReviewSchema(Strict):
    """A blameless after-action review: the five texts, who took part, links, actions, lessons."""

    title = _text(200, required=True)
    occurred_on = JsonDate(required=True)
    expected = _text()
    happened = _text()
    went_well = _text()
    went_badly = _text()
    to_fix = _text()
    participant_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=100))
    links = fields.List(
        fields.Nested(LinkSchema), load_default=list, validate=validate.Length(max=20)
    )
    actions = fields.List(
        fields.Nested(ActionSchema), load_default=list, validate=validate.Length(max=50)
    )
    lessons = fields.List(
        fields.String(validate=validate.Length(min=1, max=2000)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    cites = fields.List(Id(), load_default=list, validate=validate.Length(max=50))


class ActionObjectiveSchema(Strict):
    """An action made an objective: from a template, or with criteria like an objective's."""

    review_id = Id(load_default=None)
    template_id = Id(load_default=None)
    rule = fields.String(load_default="all", validate=validate.OneOf(RULES))
    k = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(min=1, max=MAX_CRITERIA)
    )
    criteria = fields.List(
        fields.Nested(CriterionSchema),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_CRITERIA),
    )
    due_on = JsonDate(load_default=None)

    @validates_schema
    def _one_way(self, data, **kwargs):
        if not data.get("template_id") and not data.get("criteria"):
            raise ValidationError("give template_id or criteria", field_name="criteria")
        if data.get("rule") == "k_of_n" and not data.get("k"):
            raise ValidationError("k is required when rule is k_of_n", field_name="k")


class PairSchema(Strict):
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)


class MentoringSessionSchema(Strict):
    held_on = JsonDate(required=True)
    minutes = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1440))
    topic = _text(300, required=True)


class RatingSchema(Strict):
    rating = fields.Integer(
        strict=True, required=True, allow_none=True, validate=validate.Range(min=1, max=5)
    )
