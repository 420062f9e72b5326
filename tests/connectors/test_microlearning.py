"""Micro-learning exports: reading CSV/JSON, the column mapping and the statement recipe (pure)."""

import copy
import tomllib

import pytest

from connectors import microlearning as ml
from connectors import profile as p
from connectors.errors import RowRejected
from connectors.schemas import ColumnMappingSchema
from lrs.errors import BadRequest
from schemas.connectors import load
from tests.connectors.conftest import FIXTURES
from tests.connectors.contract import ConnectorContractTests

TRAILHEAD = "https://trailhead.salesforce.com"


def trailhead_mapping():
    data = tomllib.loads((FIXTURES / "microlearning" / "trailhead.toml").read_text())
    return load(ColumnMappingSchema(), data)


def trailhead_rows():
    text = (FIXTURES / "microlearning" / "trailhead.csv").read_text()
    return ml.read_records(text, "csv")


def default_mapping():
    return load(ColumnMappingSchema(), {"platform": "https://learn.example.com/"})


def default_rows():
    text = (FIXTURES / "microlearning" / "learnloop-format.json").read_text()
    return ml.read_records(text, "json")


class TestMicrolearningContract(ConnectorContractTests):
    source = "microlearning"
    profile = "micro-learning"

    def cases(self):
        cases = {}
        for number, row in enumerate(trailhead_rows()[:5], 1):
            cases[f"trailhead row {number}"] = (trailhead_mapping(), row)
        for number, row in enumerate(default_rows(), 1):
            cases[f"default row {number}"] = (default_mapping(), row)
        return cases

    def map_case(self, case, key="row-1"):
        mapping, row = case
        row = copy.deepcopy(row)
        row[mapping.columns["row_id"]] = key
        return ml.map_row(row, mapping)


class TestRecipe:
    def test_a_unit_with_points_is_completed_plus_points_earned(self):
        completed, earned = ml.map_row(trailhead_rows()[0], trailhead_mapping())
        unit = "https://trailhead.salesforce.com/content/learn/modules/apex_database/apex_database_intro"
        assert completed["actor"] == {
            "objectType": "Agent",
            "name": "Ann Smith",
            "mbox": "mailto:ann@example.com",
        }
        assert completed["verb"] == {"id": p.COMPLETED, "display": {"en": "completed"}}
        assert completed["object"] == {
            "objectType": "Activity",
            "id": unit,
            "definition": {"type": p.UNIT, "name": {"en": "Get Started with Apex"}},
        }
        assert completed["result"] == {"completion": True}
        (module,) = completed["context"]["contextActivities"]["parent"]
        assert module["definition"]["type"] == p.MODULE
        assert completed["context"]["platform"] == "Trailhead"
        # 09:15 in Los Angeles (the mapping's time zone) on 2 March is 17:15 UTC.
        assert completed["timestamp"] == "2026-03-02T17:15:00Z"
        assert earned["verb"]["id"] == p.EARNED
        assert earned["object"]["id"] == f"{TRAILHEAD}/points"
        assert earned["object"]["definition"]["type"] == p.POINTS
        assert earned["result"] == {"score": {"raw": 100}}
        assert earned["context"]["contextActivities"]["parent"][0]["id"] == unit

    def test_a_module_has_its_trail_as_parent_and_no_points_without_points(self):
        (completed,) = ml.map_row(trailhead_rows()[1], trailhead_mapping())
        assert completed["object"]["definition"]["type"] == p.MODULE
        (trail,) = completed["context"]["contextActivities"]["parent"]
        assert trail["definition"] == {"type": p.TRAIL, "name": {"en": "Developer Beginner"}}

    def test_a_badge_id_that_is_not_an_iri_becomes_one_under_the_platform(self):
        (earned,) = ml.map_row(trailhead_rows()[2], trailhead_mapping())
        assert earned["verb"]["id"] == p.EARNED
        assert earned["object"]["id"] == f"{TRAILHEAD}/badges/apex_database"
        assert earned["object"]["definition"]["type"] == p.BADGE

    def test_bonus_points_are_earned_points(self):
        (earned,) = ml.map_row(trailhead_rows()[3], trailhead_mapping())
        assert earned["result"] == {"score": {"raw": 250}}
        assert "parent" not in earned["context"]["contextActivities"]
        assert earned["timestamp"] == "2026-03-03T08:00:00Z"

    def test_a_rank_is_achieved(self):
        (achieved,) = ml.map_row(trailhead_rows()[4], trailhead_mapping())
        assert achieved["verb"]["id"] == p.ACHIEVED
        assert achieved["object"]["id"] == f"{TRAILHEAD}/ranks/ranger"
        assert achieved["object"]["definition"] == {"type": p.RANK, "name": {"en": "Ranger"}}
        assert achieved["timestamp"] == "2026-03-04T08:00:00Z"  # midnight in Los Angeles

    def test_learners_without_email_are_accounts_on_the_platform(self):
        (badge,) = ml.map_row(default_rows()[2], default_mapping())
        assert badge["actor"] == {
            "objectType": "Agent",
            "account": {"homePage": "https://learn.example.com", "name": "ann.smith"},
        }

    def test_a_rank_may_be_named_by_title_only(self):
        (rank,) = ml.map_row(default_rows()[4], default_mapping())
        assert rank["object"]["id"] == "https://learn.example.com/ranks/Hiker"

    def test_rows_without_an_id_column_are_identified_by_their_content(self):
        mapping = default_mapping()
        row = {k: v for k, v in default_rows()[0].items() if k != "id"}
        again = dict(row)
        later = dict(row, timestamp="2026-03-02T09:00:00Z")
        assert ml.map_row(row, mapping)[0]["id"] == ml.map_row(again, mapping)[0]["id"]
        assert ml.map_row(row, mapping)[0]["id"] != ml.map_row(later, mapping)[0]["id"]

    @pytest.mark.parametrize(
        ("number", "reason"),
        [
            (6, "email: 'carol-at-example.com' is not an e-mail address"),
            (7, "kind: unknown value 'Certification'"),
            (8, "points: 'lots' is not a number"),
        ],
    )
    def test_bad_rows_are_rejected_with_a_reason(self, number, reason):
        with pytest.raises(RowRejected) as raised:
            ml.map_row(trailhead_rows()[number - 1], trailhead_mapping())
        assert raised.value.reason.startswith(reason)

    @pytest.mark.parametrize(
        ("row", "reason"),
        [
            ({"event": "unit_completed", "item_id": "u"}, "learner: the row has neither"),
            ({"event": "unit_completed", "email": "a@b.co"}, "item_id: required"),
            ({"event": "points_awarded", "email": "a@b.co"}, "points: required"),
            ({"event": "points_awarded", "email": "a@b.co", "points": -5}, "points: -5"),
            ({"email": "a@b.co", "item_id": "u"}, "kind: column 'event' is empty"),
            (
                {"event": "badge_earned", "email": "a@b.co", "item_id": "b", "timestamp": "soon"},
                "timestamp: 'soon'",
            ),
            (["not", "an", "object"], "the record is not an object"),
        ],
    )
    def test_incomplete_rows_are_rejected(self, row, reason):
        with pytest.raises(RowRejected) as raised:
            ml.map_row(row, default_mapping())
        assert raised.value.reason.startswith(reason)


class TestReading:
    def test_csv_with_a_byte_order_mark(self):
        rows = ml.read_records("\ufeffemail,event\na@b.co,badge_earned\n", "csv")
        assert rows == [{"email": "a@b.co", "event": "badge_earned"}]

    def test_json_lines(self):
        assert ml.read_records('{"a": 1}\n\n{"a": 2}\n', "jsonl") == [{"a": 1}, {"a": 2}]

    def test_json_records_under_a_path(self):
        assert ml.read_records('{"data": {"items": [{"a": 1}]}}', "json", "data.items") == [
            {"a": 1}
        ]

    @pytest.mark.parametrize(
        ("text", "fmt", "message"),
        [
            ("", "csv", "no header row"),
            ("{", "json", "not JSON"),
            ('{"a": 1}', "json", "array of records"),
            ("x", "xml", "unknown format"),
        ],
    )
    def test_unreadable_files_say_why(self, text, fmt, message):
        with pytest.raises(ValueError, match=message):
            ml.read_records(text, fmt)


class TestMappingConfig:
    def test_the_trailhead_mapping_loads(self):
        mapping = trailhead_mapping()
        assert mapping.home == TRAILHEAD and mapping.kinds["Bonus Points"] == "points_awarded"

    @pytest.mark.parametrize(
        ("data", "path"),
        [
            ({}, "platform"),
            ({"platform": "trailhead"}, "platform"),
            ({"platform": "https://x.example", "kind": "quiz_passed"}, "kind"),
            ({"platform": "https://x.example", "columns": {"mail": "Email"}}, "columns"),
            ({"platform": "https://x.example", "kinds": {"Unit": "unit"}}, "kinds"),
            ({"platform": "https://x.example", "timezone": "Mars/Olympus"}, "timezone"),
            ({"platform": "https://x.example", "colour": "red"}, "colour"),
            ({"platform": "https://x.example", "columns": {"email": "E"}}, ""),
        ],
    )
    def test_invalid_configs_name_the_field(self, data, path):
        with pytest.raises(BadRequest) as raised:
            load(ColumnMappingSchema(), data)
        assert raised.value.errors[0].path == path


def test_the_documented_example_is_what_the_importer_produces():
    import json
    import re

    text = (FIXTURES.parents[2] / "docs" / "microlearning.md").read_text()
    example = json.loads(re.findall(r"```json\n(.*?)```", text, re.S)[0])
    assert example == ml.map_row(trailhead_rows()[0], trailhead_mapping())


def test_missing_columns_names_what_every_row_needs():
    mapping = trailhead_mapping()
    assert ml.missing_columns(["Type", "User Email"], mapping) is None
    assert "'Type'" in ml.missing_columns(["User Email"], mapping)
    fixed = load(ColumnMappingSchema(), {"platform": "https://x.example", "kind": "badge_earned"})
    assert ml.missing_columns(["email"], fixed) is None
