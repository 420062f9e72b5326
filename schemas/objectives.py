"""Payloads of the objectives API (/api/...): cycles, reviews, objectives, templates, people.

Validation errors are answered with 400 (not marshmallow's customary 422) and the path of each
defect, like every other error of Learnloop.
"""

from __future__ import annotations

import re

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from schemas.fields import Id, is_iri

RULES = ("all", "any", "k_of_n")
#: Criteria of one objective, at most.
MAX_CRITERIA = 20
SOURCES = ("any", "lms", "code_review", "microlearning", "xapi")
STATUSES = ("draft", "in_progress", "submitted", "closed")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class JsonNumber(fields.Float):
    """A JSON number: not ``"0.5"`` nor ``true``, which marshmallow's Float reads as numbers."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBoolean(fields.Boolean):
    """``true`` or ``false``: not ``"true"``, ``1`` or ``"yes"``, which marshmallow's reads."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class JsonDate(fields.Date):
    """A full-date, ``2026-01-31`` (RFC 3339): not ``20260131`` nor ``2026-W05-6``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and _FULL_DATE.fullmatch(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _iri(value: str) -> None:
    if not is_iri(value):
        raise ValidationError("must be an IRI")


class CriterionSchema(Strict):
    """One xAPI condition; see ``objectives.criteria.Criterion``."""

    verbs = fields.List(fields.String(validate=_iri), load_default=list)
    activity_ids = fields.List(fields.String(validate=_iri), load_default=list)
    activity_prefix = fields.String(load_default=None, validate=validate.Length(min=1))
    activity_type = fields.String(load_default=None, validate=_iri)
    parent_ids = fields.List(fields.String(validate=_iri), load_default=list)
    source = fields.String(load_default="any", validate=validate.OneOf(SOURCES))
    min_count = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=100_000)
    )
    count = fields.String(
        load_default="statements", validate=validate.OneOf(("statements", "activities"))
    )
    min_score = JsonNumber(load_default=None, validate=validate.Range(min=-1, max=1))
    success = JsonBoolean(load_default=None)
    completion = JsonBoolean(load_default=None)
    with_response = JsonBoolean(load_default=False)
    # RFC 3339 with an offset, as the document says (not a bare date, not a local time).
    window_start = fields.AwareDateTime(load_default=None)
    window_end = fields.AwareDateTime(load_default=None)
    label = fields.String(load_default="", validate=validate.Length(max=300))

    @validates_schema
    def _target(self, data, **kwargs):
        if not (
            data["verbs"]
            or data["activity_ids"]
            or data["activity_prefix"]
            or data["activity_type"]
            or data["parent_ids"]
        ):
            raise ValidationError(
                "a criterion needs verbs, activity_ids, activity_prefix, activity_type or "
                "parent_ids"
            )
        if (
            data["count"] == "activities"
            and data["activity_ids"]
            and data["min_count"] > len(data["activity_ids"])
        ):
            raise ValidationError(
                "min_count cannot exceed the number of activity_ids", field_name="min_count"
            )
        if (
            data["window_start"]
            and data["window_end"]
            and data["window_start"] >= data["window_end"]
        ):
            raise ValidationError("window_start must be before window_end", field_name="window_end")


class CriteriaFields(Strict):
    """Criteria and the rule that combines them, for objectives and badges alike."""

    rule = fields.String(load_default="all", validate=validate.OneOf(RULES))
    k = fields.Integer(
        strict=True, load_default=None, validate=validate.Range(min=1, max=MAX_CRITERIA)
    )
    criteria = fields.List(
        fields.Nested(CriterionSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_CRITERIA),
    )

    @validates_schema
    def _rule(self, data, **kwargs):
        if data.get("rule") == "k_of_n":
            if not data.get("k"):
                raise ValidationError("k is required when rule is k_of_n", field_name="k")
            if data["k"] > len(data.get("criteria") or []):
                raise ValidationError("k cannot exceed the number of criteria", field_name="k")


class ObjectiveFields(CriteriaFields):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    description = fields.String(load_default="", validate=validate.Length(max=5000))


class TemplateSchema(ObjectiveFields):
    """An objective template a manager reuses."""


class ObjectiveSchema(ObjectiveFields):
    """An objective attached to a review; or built from a template (then only overrides)."""

    due_on = JsonDate(load_default=None)
    weight = JsonNumber(load_default=1.0, validate=validate.Range(min=0, max=100))


class ObjectiveFromTemplateSchema(Strict):
    template_id = Id(required=True)
    due_on = JsonDate(load_default=None)
    weight = JsonNumber(load_default=1.0, validate=validate.Range(min=0, max=100))


class CycleSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_on = JsonDate(required=True)
    ends_on = JsonDate(required=True)

    @validates_schema
    def _order(self, data, **kwargs):
        if data["ends_on"] < data["starts_on"]:
            raise ValidationError("ends_on must not be before starts_on", field_name="ends_on")


class ReviewSchema(Strict):
    cycle_id = Id(required=True)
    person_id = Id(required=True)
    reviewer_ids = fields.List(Id(), load_default=list)


class ReviewUpdateSchema(Strict):
    status = fields.String(validate=validate.OneOf(STATUSES))
    manager_comment = fields.String(validate=validate.Length(max=10000))
    reviewer_comment = fields.String(validate=validate.Length(max=10000))
    reviewer_ids = fields.List(Id())
    rating = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=5))


class ManagerSchema(Strict):
    """``PUT /api/people/<id>/manager``: the manager's person id, or null for none."""

    manager_id = Id(load_default=None)


class PersonSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    email = fields.Email(load_default=None, validate=validate.Length(max=320))
    manager_id = Id(load_default=None)


class TokenRequestSchema(Strict):
    """``POST /api/tokens``: sign in with the organisation's name, an email and a password."""

    store = fields.String(required=True, validate=validate.Length(max=200))
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(max=1024))
    name = fields.String(load_default="", validate=validate.Length(max=200))


class RecordQuerySchema(Strict):
    since = JsonDate(load_default=None)
    until = JsonDate(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
