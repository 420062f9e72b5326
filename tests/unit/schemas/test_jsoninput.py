"""The strict JSON reader (schemas.jsoninput) and the bounded ids (schemas.fields), as rules."""

import json

import pytest
from marshmallow import Schema

from schemas.errors import PayloadTooLarge
from schemas.fields import MAX_ID, Id, id_parameter
from schemas.jsoninput import MAX_DEPTH, JsonInputError, find_nul, read_json


def refused(data, **kwargs) -> JsonInputError:
    with pytest.raises(JsonInputError) as caught:
        read_json(data, **kwargs)
    return caught.value


class TestReadJson:
    @pytest.mark.parametrize(
        "text",
        [
            '{"a": [1, 2.5, "x", null, true, {"b": {}}]}',
            "[]",
            '"text"',
            "-0",
            "1e308",
            '{"a": "x\\\\u0000"}',  # an escaped backslash, then the text u0000: no NUL
            '{"k": "\\":"}',  # a quote and a colon inside a string are not a key
            "\ufeff{}",
        ],
    )
    def test_strict_json_reads_as_the_standard_library_reads_it(self, text):
        expected = json.loads(text.removeprefix("\ufeff"))
        assert read_json(text) == expected
        assert read_json(text.encode()) == expected

    @pytest.mark.parametrize("number", [2**63, 2**64, 2**64 + 1, -(2**63) - 1, 10**40])
    def test_integers_of_any_size_are_kept_exactly(self, number):
        value = read_json(f'{{"n": {number}}}'.encode())["n"]
        assert value == number and type(value) is int

    @pytest.mark.parametrize(
        "text, path",
        [
            ("NaN", "statement"),
            ('{"result": {"score": {"raw": Infinity}}}', "statement.result.score.raw"),
            ('{"a": [0, -Infinity]}', "statement.a[1]"),
            ('{"a": 1e400}', "statement.a"),
            ('{"a": -1E+999}', "statement.a"),
            ('{"http://x.org/e": NaN}', 'statement["http://x.org/e"]'),
        ],
    )
    def test_non_finite_numbers_are_refused_naming_where(self, text, path):
        error = refused(text, root="statement")
        assert error.message == f"{path}: not a finite number"
        assert [(e.path, e.message) for e in error.errors] == [(path, "not a finite number")]

    def test_duplicate_keys_are_refused_by_default_naming_the_key_and_the_object(self):
        error = refused('[{"a": 1}, {"v": {"id": 1, "id": 2}}]', root="s", list_root="ss")
        assert error.message == 'duplicate key "id" in ss[1].v'
        text = '{"a" : 1, "a"\n: 2}'
        assert refused(text).message == 'duplicate key "a" in body'
        assert read_json(text, unique_keys=False) == {"a": 2}

    @pytest.mark.parametrize(
        "text, path",
        [
            ('{"a": "x\\u0000y"}', "a"),
            ('{"a\\u0000": 1}', "body"),
            ('["\\u0000"]', "[0]"),
        ],
    )
    def test_nul_is_refused_in_any_string_or_key(self, text, path):
        error = refused(text)
        assert error.errors[0].path == path and "NUL" in error.message

    def test_lone_surrogates_are_refused(self):
        assert "lone surrogate" in refused('{"a": "\\ud800"}').message

    def test_depth_is_bounded_and_reported_at_the_top(self):
        assert read_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)
        for depth in (MAX_DEPTH + 1, 500, 100_000):
            error = refused("[" * depth + "]" * depth, root="statement", list_root="statements")
            assert "JSON nested deeper than 64 levels" in error.message
            assert error.errors[0].path in ("statement", "statements", "statements[0]")
        nested = '{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
        assert refused(nested, root="agent").message == "agent: JSON nested deeper than 64 levels"

    def test_size_is_bounded(self):
        with pytest.raises(PayloadTooLarge):
            read_json(b"[" + b"1," * 100 + b"1]", max_bytes=100)

    @pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", "\x00", '"\x01"'])
    def test_what_is_not_json_at_all(self, text):
        assert "is not valid JSON" in refused(text, root="document").message

    def test_bytes_that_are_not_utf8(self):
        assert refused(b'"\xff"').message == "body: is not UTF-8 (byte 1)"

    def test_find_nul_locates_a_nul_in_parsed_json(self):
        assert find_nul({"a": [{"b": "\x00"}]}, "statement") == "statement.a[0].b"
        assert find_nul({"a": "\\u0000"}, "statement") is None


class TestIds:
    @pytest.mark.parametrize("text, value", [("0", 0), ("42", 42), (str(MAX_ID), MAX_ID)])
    def test_an_id_parameter_is_ascii_digits_up_to_max_id(self, text, value):
        assert id_parameter(text) == value

    @pytest.mark.parametrize(
        "text", ["", "-1", "+1", " 1", "1_0", "²", "١٢", "1.0", str(MAX_ID + 1), str(2**64)]
    )
    def test_anything_else_is_a_value_error(self, text):
        with pytest.raises(ValueError):
            id_parameter(text)

    def test_an_id_field_takes_json_integers_from_1_to_max_id(self):
        class Ref(Schema):
            id = Id()

        assert Ref().load({"id": MAX_ID}) == {"id": MAX_ID}
        for bad in (0, -1, MAX_ID + 1, 2**63, 2**64, "3", 3.0, True):
            assert "id" in Ref().validate({"id": bad}), bad
