"""Micro-learning and badge platforms: rows of a CSV or JSON export become statements.

The recipe (``docs/microlearning.md``, profile ``profiles/micro-learning.jsonld``):

=================  ===========================  =================================  ==========
row kind           verb                         object (type)                      result
=================  ===========================  =================================  ==========
module_completed   ADL completed                the module (ADL module)            completion
unit_completed     ADL completed                the unit (ADL lesson)              completion
badge_earned       Tin Can earned               the badge (Activity Streams badge)
points_awarded     Tin Can earned               the platform's points (points)     score.raw
rank_reached       DoD ISD achieved             the rank (rank)
=================  ===========================  =================================  ==========

A completed module or unit with points also becomes a ``points_awarded`` statement, so a
learner's points are always the sum of ``score.raw`` over the points statements. Statement
ids are derived from the row (its id column, else its content), so importing a file twice
stores nothing new. Pure: no Flask, no database.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from connectors import profile as p
from connectors.common import format_time, statement_id
from connectors.errors import RowRejected
from schemas.jsoninput import JsonInputError, read_json

SOURCE = "microlearning"

MODULE_COMPLETED = "module_completed"
UNIT_COMPLETED = "unit_completed"
BADGE_EARNED = "badge_earned"
POINTS_AWARDED = "points_awarded"
RANK_REACHED = "rank_reached"
KINDS = (MODULE_COMPLETED, UNIT_COMPLETED, BADGE_EARNED, POINTS_AWARDED, RANK_REACHED)

FIELDS = (
    "kind",
    "row_id",
    "email",
    "account",
    "name",
    "timestamp",
    "item_id",
    "item_name",
    "points",
    "parent_id",
    "parent_name",
)
# The columns of an export in Learnloop's own format (no mapping file needed).
DEFAULT_COLUMNS = {
    "kind": "event",
    "row_id": "id",
    "email": "email",
    "account": "account",
    "name": "name",
    "timestamp": "timestamp",
    "item_id": "item_id",
    "item_name": "item_name",
    "points": "points",
    "parent_id": "parent_id",
    "parent_name": "parent_name",
}

# kind -> (verb, object activity type, IRI path segment of items, parent activity type)
_RECIPE = {
    MODULE_COMPLETED: (p.COMPLETED, p.MODULE, "modules", p.TRAIL),
    UNIT_COMPLETED: (p.COMPLETED, p.UNIT, "units", p.MODULE),
    BADGE_EARNED: (p.EARNED, p.BADGE, "badges", p.TRAIL),  # parent: the badge's trail
    POINTS_AWARDED: (p.EARNED, p.POINTS, "items", None),
    RANK_REACHED: (p.ACHIEVED, p.RANK, "ranks", None),
}
_PARENT_SEGMENT = {p.TRAIL: "trails", p.MODULE: "modules"}


@dataclass(frozen=True)
class ColumnMapping:
    """How the columns of one platform's export map to a row of the recipe.

    ``platform`` is the platform's home page: learner accounts live there and item ids that
    are not IRIs become IRIs under it. ``kind`` fixes the kind of every row (an export of
    badges only); otherwise the ``kind`` column's values are translated through ``kinds``.
    Naive times are read in ``timezone``. ``records`` is the dotted path of the record list
    in a JSON export whose top level is an object.
    """

    platform: str
    platform_name: str = ""
    kind: str | None = None
    columns: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    kinds: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    language: str = "en"
    records: str | None = None

    @property
    def home(self) -> str:
        return self.platform.rstrip("/")


# ---- Reading exports -------------------------------------------------------------------


def read_records(text: str, fmt: str, records: str | None = None) -> list[Any]:
    """The records of an export: ``csv`` (header row), ``json`` (array) or ``jsonl``.

    Raises ValueError with a readable reason if the file cannot be read at all; a record
    that is not an object is returned as it is, and rejected as a row later.
    """
    text = text.removeprefix("\ufeff")
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise ValueError("the CSV file has no header row")
        return list(reader)
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(read_json(line, root="record"))
                except JsonInputError as exc:
                    raise ValueError(f"line {number} is not JSON: {exc}") from None
        return rows
    if fmt == "json":
        try:
            data = read_json(text, root="file")
        except JsonInputError as exc:
            raise ValueError(f"the file is not JSON: {exc}") from None
        if records is None and isinstance(data, dict) and isinstance(data.get("records"), list):
            records = "records"
        for part in records.split(".") if records else []:
            if not isinstance(data, dict) or part not in data:
                raise ValueError(f"the JSON file has no records at {records!r}")
            data = data[part]
        if not isinstance(data, list):
            raise ValueError("the JSON file must hold an array of records (set 'records')")
        return data
    raise ValueError(f"unknown format {fmt!r}; use csv, json or jsonl")


def missing_columns(columns: list[str], mapping: ColumnMapping) -> str | None:
    """Why an export with these columns cannot be imported with ``mapping``, or None.

    Only the columns every row needs are checked: the kind (unless fixed) and the learner.
    """
    present = set(columns)
    needed = [] if mapping.kind else [mapping.columns.get("kind")]
    learner = [mapping.columns.get(f) for f in ("email", "account") if mapping.columns.get(f)]
    lacking = [repr(c) for c in needed if c and c not in present]
    if learner and not present & set(learner):
        lacking.append(" or ".join(repr(c) for c in learner))
    if not lacking:
        return None
    names = " nor ".join(lacking)
    return f"the export has no column {names}; its columns are: {', '.join(columns)}"


# ---- Mapping rows ----------------------------------------------------------------------


def _lookup(row: Mapping, column: str) -> Any:
    if column in row:
        return row[column]
    value: Any = row
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _value(row: Mapping, mapping: ColumnMapping, name: str) -> Any:
    column = mapping.columns.get(name)
    if not column:
        return None
    value = _lookup(row, column)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _text(row: Mapping, mapping: ColumnMapping, name: str) -> str | None:
    value = _value(row, mapping, name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RowRejected(f"{name} (column {mapping.columns[name]!r}): must be text")


def _kind(row: Mapping, mapping: ColumnMapping) -> str:
    if mapping.kind:
        return mapping.kind
    raw = _text(row, mapping, "kind")
    if raw is None:
        raise RowRejected(f"kind: column {mapping.columns.get('kind')!r} is empty or missing")
    kind = mapping.kinds.get(raw, raw if raw in KINDS else None)
    if kind is None:
        known = ", ".join(sorted(set(mapping.kinds) | set(KINDS)))
        raise RowRejected(f"kind: unknown value {raw!r} (expected one of: {known})")
    return kind


def _learner(row: Mapping, mapping: ColumnMapping) -> dict:
    name = _text(row, mapping, "name")
    email = _text(row, mapping, "email")
    agent: dict = {"objectType": "Agent"}
    if name:
        agent["name"] = name
    if email:
        local, at, domain = email.removeprefix("mailto:").rpartition("@")
        if not at or not local or "." not in domain or " " in email:
            raise RowRejected(f"email: {email!r} is not an e-mail address")
        agent["mbox"] = f"mailto:{local}@{domain}"
        return agent
    account = _text(row, mapping, "account")
    if account:
        agent["account"] = {"homePage": mapping.home, "name": account}
        return agent
    raise RowRejected("learner: the row has neither an email nor an account")


def _points(row: Mapping, mapping: ColumnMapping, required: bool) -> float | int | None:
    value = _value(row, mapping, "points")
    if value is None:
        if required:
            raise RowRejected("points: required for points_awarded rows")
        return None
    if isinstance(value, bool):
        raise RowRejected(f"points: {value!r} is not a number")
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise RowRejected(f"points: {value!r} is not a number") from None
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise RowRejected(f"points: {value!r} is not a non-negative number")
    return value


def _timestamp(row: Mapping, mapping: ColumnMapping) -> str | None:
    value = _value(row, mapping, "timestamp")
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = dt.datetime.fromtimestamp(value, dt.UTC)
        elif isinstance(value, str):
            text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(mapping.timezone))
        else:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise RowRejected(f"timestamp: {value!r} is not a date and time (ISO 8601)") from None
    return format_time(moment)


def _iri(mapping: ColumnMapping, segment: str, item: str) -> str:
    parts = urlsplit(item)
    if parts.scheme in ("http", "https") and parts.netloc:
        return item
    return f"{mapping.home}/{segment}/{quote(item, safe='')}"


def _activity(mapping: ColumnMapping, iri: str, kind: str | None, name: str | None) -> dict:
    activity: dict = {"objectType": "Activity", "id": iri}
    definition: dict = {}
    if kind:
        definition["type"] = kind
    if name:
        definition["name"] = {mapping.language: name}
    if definition:
        activity["definition"] = definition
    return activity


def row_key(row: Mapping, mapping: ColumnMapping, kind: str, learner: dict) -> str:
    """What identifies a row: its id column, else its learner, kind, item, time and points."""
    row_id = _text(row, mapping, "row_id")
    if row_id:
        return f"{mapping.home}:{kind}:{row_id}"
    who = learner.get("mbox") or learner["account"]["name"]
    parts = [_text(row, mapping, f) or "" for f in ("item_id", "timestamp", "points")]
    return ":".join([mapping.home, kind, who, *parts])


def map_row(row: Any, mapping: ColumnMapping) -> list[dict]:
    """The statements of one export row; RowRejected (with the reason) if it cannot be mapped."""
    if not isinstance(row, Mapping):
        raise RowRejected("the record is not an object")
    kind = _kind(row, mapping)
    learner = _learner(row, mapping)
    verb, object_type, segment, parent_type = _RECIPE[kind]
    item_id = _text(row, mapping, "item_id")
    item_name = _text(row, mapping, "item_name")
    points = _points(row, mapping, required=kind == POINTS_AWARDED)
    when = _timestamp(row, mapping)
    key = row_key(row, mapping, kind, learner)
    category = [{"objectType": "Activity", "id": p.MICRO_LEARNING_V1}]

    def statement(n: int, verb: str, obj: dict, result: dict | None, parent: dict | None) -> dict:
        activities: dict = {"category": category}
        if parent is not None:
            activities["parent"] = [parent]
        context: dict = {"contextActivities": activities}
        if mapping.platform_name:
            context["platform"] = mapping.platform_name
        out = {
            "id": statement_id(SOURCE, key, n),
            "actor": learner,
            "verb": {"id": verb, "display": {"en": p.MICRO_VERB_DISPLAY[verb]}},
            "object": obj,
        }
        if result:
            out["result"] = result
        out["context"] = context
        if when:
            out["timestamp"] = when
        return out

    points_activity = _activity(mapping, f"{mapping.home}/points", p.POINTS, None)
    if kind == POINTS_AWARDED:
        source = None
        if item_id:
            source = _activity(mapping, _iri(mapping, segment, item_id), None, item_name)
        return [statement(0, verb, points_activity, {"score": {"raw": points}}, source)]
    if not item_id and not (kind == RANK_REACHED and item_name):
        raise RowRejected(f"item_id: required for {kind} rows")
    item = _activity(mapping, _iri(mapping, segment, item_id or item_name), object_type, item_name)
    parent = None
    parent_id = _text(row, mapping, "parent_id")
    if parent_type and parent_id:
        parent_iri = _iri(mapping, _PARENT_SEGMENT[parent_type], parent_id)
        parent = _activity(mapping, parent_iri, parent_type, _text(row, mapping, "parent_name"))
    if kind in (MODULE_COMPLETED, UNIT_COMPLETED):
        out = [statement(0, verb, item, {"completion": True}, parent)]
        if points:
            earned = {"score": {"raw": points}}
            out.append(statement(1, p.EARNED, points_activity, earned, copy.deepcopy(item)))
        return out
    return [statement(0, verb, item, None, parent)]  # a badge's parent: its trail
