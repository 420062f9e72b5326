"""Payloads of the LTI admin API (``/api/admin/lti``): registrations and invites."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from schemas.errors import BadRequest, FieldError
from schemas.fields import flatten_messages


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain NUL characters")


def _text(max_length: int, min_length: int = 0) -> list:
    return [validate.Length(min=min_length, max=max_length), _no_nul]


_url = {"required": True, "validate": _text(2000, 1)}


class RegistrationSchema(Schema):
    """A platform registration as an administrator creates it."""

    class Meta:
        unknown = RAISE

    issuer = fields.String(**_url)
    client_id = fields.String(required=True, validate=_text(255, 1))
    deployment_ids = fields.List(
        fields.String(validate=_text(255, 1)),
        load_default=list,
        validate=validate.Length(max=1000),
    )
    auth_login_url = fields.String(**_url)
    auth_token_url = fields.String(**_url)
    key_set_url = fields.String(**_url)
    auth_audience = fields.String(load_default=None, allow_none=True, validate=_text(2000))
    name = fields.String(load_default="", validate=_text(200))


class RegistrationChangeSchema(RegistrationSchema):
    """A change to a registration: any field but the key (issuer, client_id)."""

    class Meta:
        unknown = RAISE
        exclude = ("issuer", "client_id")


class InviteSchema(Schema):
    """A dynamic registration link; ``days`` defaults to the configured lifetime."""

    class Meta:
        unknown = RAISE

    days = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0.01, max=90)
    )


def load(schema: Schema, payload: Any, partial: bool = False) -> dict[str, Any]:
    """The validated payload; BadRequest naming each offending field otherwise."""
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object", [FieldError("", "must be an object")])
    try:
        return schema.load(payload, partial=partial)
    except ValidationError as exc:
        errors = [FieldError(path, message) for path, message in flatten_messages(exc.messages)]
        raise BadRequest("; ".join(str(e) for e in errors[:5]), errors) from None
