"""Payloads of the connectors' admin API.

``load`` turns marshmallow's nested error messages into one BadRequest whose errors name each
offending field by path (``identities[0].home_page``), like every other 4xx of Learnloop.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from schemas.errors import BadRequest, FieldError
from schemas.fields import Id

CONNECTOR_KINDS = ("github", "gitlab", "gerrit")
IDENTITY_KINDS = ("github", "gitlab", "gerrit", "email", "account")


def _flatten(messages: Any, path: str = "") -> list[FieldError]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            out.extend(_flatten(value, sub))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [FieldError(path, m.rstrip(".")) for m in messages]
    if isinstance(messages, list):
        return [e for m in messages for e in _flatten(m, path)]
    return [FieldError(path, str(messages))]


def load(schema: Schema, data: Any, what: str = "the request body") -> Any:
    """Load ``data`` with ``schema``; BadRequest naming every defect by path."""
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object")
    try:
        return schema.load(data)
    except ValidationError as exc:
        errors = _flatten(exc.messages)
        raise BadRequest("; ".join(str(e) for e in errors[:5]), errors) from None


class ConnectorCreateSchema(Schema):
    """``POST /api/admin/connectors``: the kind, a label, and GitLab's optional signing token."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(CONNECTOR_KINDS))
    label = fields.String(load_default="", validate=validate.Length(max=200))
    signing_token = fields.String(load_default=None, validate=validate.Length(min=8, max=500))

    @validates_schema
    def _signing_token_is_gitlab_only(self, data: dict, **_: Any) -> None:
        if data.get("signing_token") and data["kind"] != "gitlab":
            raise ValidationError("only GitLab connectors have a signing token", "signing_token")


class IdentitySchema(Schema):
    """One identity to link: a forge login, an e-mail address or an account on any system.

    ``home_page`` defaults to https://github.com and https://gitlab.com; Gerrit and plain
    accounts need it (it is the ``account.homePage`` of the Agent).
    """

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(IDENTITY_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    home_page = fields.Url(load_default=None, require_tld=False, schemes={"http", "https"})

    @validates_schema
    def _home_page_when_needed(self, data: dict, **_: Any) -> None:
        if data["kind"] in ("gerrit", "account") and not data.get("home_page"):
            raise ValidationError(f"required for {data['kind']} identities", "home_page")
        if data["kind"] == "email" and "@" not in data["name"]:
            raise ValidationError("must be an e-mail address", "name")


class PersonRefSchema(Schema):
    """Which person: by id, or by e-mail address (created when unknown)."""

    class Meta:
        unknown = RAISE

    id = Id(load_default=None)
    email = fields.Email(load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=300))

    @validates_schema
    def _id_or_email(self, data: dict, **_: Any) -> None:
        if (data.get("id") is None) == (data.get("email") is None):
            raise ValidationError("give exactly one of id and email")


class PersonLinkSchema(Schema):
    """``POST /api/admin/people/links``: attach identities to one person."""

    class Meta:
        unknown = RAISE

    person = fields.Nested(PersonRefSchema, required=True)
    identities = fields.List(
        fields.Nested(IdentitySchema), required=True, validate=validate.Length(min=1, max=50)
    )
