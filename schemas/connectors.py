"""Payloads of the connectors' admin API and the column-mapping config of micro-learning imports.

``load`` turns marshmallow's nested error messages into one BadRequest whose errors name each
offending field by path (``identities[0].home_page``), like every other 4xx of Learnloop.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from lrs.errors import BadRequest, FieldError

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

    id = fields.Integer(load_default=None, strict=True)
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


class ColumnMappingSchema(Schema):
    """The column-mapping config of ``learnloop import microlearning`` (JSON or TOML).

    ``columns`` maps recipe fields to the export's column names (dotted paths in JSON); when
    given it replaces the default columns entirely. ``kinds`` translates the values of the
    ``kind`` column to recipe kinds.
    """

    class Meta:
        unknown = RAISE

    platform = fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    platform_name = fields.String(load_default="", validate=validate.Length(max=100))
    kind = fields.String(load_default=None)
    columns = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    kinds = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    timezone = fields.String(load_default="UTC")
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=35))
    records = fields.String(load_default=None)

    @validates("kind")
    def _known_kind(self, value: str | None, **_: Any) -> None:
        from connectors.microlearning import KINDS

        if value is not None and value not in KINDS:
            raise ValidationError(f"must be one of: {', '.join(KINDS)}")

    @validates("columns")
    def _known_fields(self, value: dict | None, **_: Any) -> None:
        from connectors.microlearning import FIELDS

        unknown = sorted(set(value or {}) - set(FIELDS))
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")

    @validates("kinds")
    def _known_kinds(self, value: dict, **_: Any) -> None:
        from connectors.microlearning import KINDS

        for raw, kind in value.items():
            if kind not in KINDS:
                raise ValidationError(f"{raw!r} maps to {kind!r}; kinds are: {', '.join(KINDS)}")

    @validates("timezone")
    def _known_timezone(self, value: str, **_: Any) -> None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"unknown time zone {value!r}") from None

    @validates_schema
    def _kind_source(self, data: dict, **_: Any) -> None:
        columns = data.get("columns")
        if columns is not None and not data.get("kind") and "kind" not in columns:
            raise ValidationError("map a 'kind' column or set a fixed 'kind' for every row")
        if columns is not None and not ({"email", "account"} & set(columns)):
            raise ValidationError("map an 'email' or an 'account' column to identify learners")

    @post_load
    def _make(self, data: dict, **_: Any):
        from connectors.microlearning import DEFAULT_COLUMNS, ColumnMapping

        columns = data.pop("columns") or dict(DEFAULT_COLUMNS)
        return ColumnMapping(columns=columns, **data)
