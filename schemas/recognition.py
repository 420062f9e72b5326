"""Payloads of the recognition API (/api/kudos, /api/badges, /api/rewards, /api/leaderboard).

Validation errors are answered with 400 and the path of each defect, like every other error.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from schemas.fields import Id, is_iri
from schemas.objectives import CriteriaFields, JsonBoolean, Strict

#: Why kudos are given (``recognition.statements.REASONS`` says them in words).
REASONS = ("help", "mentoring", "code-review", "talk", "knowledge-base")
PERIODS = ("month", "quarter")


def _iri(value: str) -> None:
    if not is_iri(value):
        raise ValidationError("must be an IRI (the address of what it was for)")


class KudosSchema(Strict):
    """A gift of kudos to a colleague."""

    receiver_id = Id(required=True)
    points = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=100_000))
    message = fields.String(required=True, validate=validate.Length(min=1, max=500))
    reason = fields.String(load_default="help", validate=validate.OneOf(REASONS))
    link = fields.String(load_default=None, validate=[validate.Length(max=2000), _iri])


class BadgeSchema(CriteriaFields):
    """A badge: criteria written like an objective's."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class RewardSchema(Strict):
    """An item of the reward catalogue."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cost = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1_000_000))
    stock = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=1_000_000)
    )


class OptInSchema(Strict):
    """The person's own choice to appear on leaderboards."""

    opt_in = JsonBoolean(required=True)


class RecognitionSettingsSchema(Strict):
    """The store's kudos allowance per person and period."""

    allowance = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=100_000)
    )
    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
