"""The column-mapping config of ``learnloop import microlearning``, checked on load.

Errors name each field by path like every 4xx of Learnloop (``schemas.connectors.load``).
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

from connectors.microlearning import DEFAULT_COLUMNS, FIELDS, KINDS, ColumnMapping


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
        if value is not None and value not in KINDS:
            raise ValidationError(f"must be one of: {', '.join(KINDS)}")

    @validates("columns")
    def _known_fields(self, value: dict | None, **_: Any) -> None:
        unknown = sorted(set(value or {}) - set(FIELDS))
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")

    @validates("kinds")
    def _known_kinds(self, value: dict, **_: Any) -> None:
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
        columns = data.pop("columns") or dict(DEFAULT_COLUMNS)
        return ColumnMapping(columns=columns, **data)
