"""The xAPI special data types (Data 4.x) and the pure helpers the LRS core uses.

``Data x.y`` = xAPI 1.0.3 Part Two section; ``XAPI-000nn`` = ADL CTS requirement id; ``D6`` etc.
= section of the 2.0 delta (xapi-2.0-delta.md).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError

from schemas.fields import (
    Iri,
    IsoDuration,
    LanguageMap,
    Timestamp,
    Version,
    flatten_messages,
    is_iri,
    is_language_tag,
    nest_errors,
    parse_duration,
    parse_timestamp,
    truncate_duration,
)

UTC = dt.UTC


def at(*args: int, offset_minutes: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))


# --- Timestamps (Data 4.5, XAPI-00123; D6) ----------------------------------------------------

BOTH_VALID = [
    ("2016-06-09T15:34:37.559Z", at(2016, 6, 9, 15, 34, 37, 559000)),
    ("2008-09-15T15:53:00.601+00:00", at(2008, 9, 15, 15, 53, 0, 601000)),  # CTS valid RFC 3339
    ("2023-05-04T12:00:00-05:00", at(2023, 5, 4, 12, offset_minutes=-300)),  # D7 instant kept
    ("2013-04-01T12:00:00.123456789+05:30", at(2013, 4, 1, 12, 0, 0, 123456, offset_minutes=330)),
    ("2013-04-01t12:00:00z", at(2013, 4, 1, 12)),  # RFC 3339 5.6: t and z may be lower case
    ("2000-01-01T00:00:00", at(2000, 1, 1)),  # no offset: read as UTC (corpus: Ralph tutorial)
    ("2016-12-31T23:59:60Z", at(2016, 12, 31, 23, 59, 59, 999999)),  # leap second
    ("2031-11-27T21:36:22.027Z", at(2031, 11, 27, 21, 36, 22, 27000)),  # future (D9)
]
ONLY_103 = [
    ("20130401T120000Z", at(2013, 4, 1, 12)),  # ISO 8601 basic format
    ("2013-04-01T12:00Z", at(2013, 4, 1, 12)),  # reduced precision
    ("2013-04-01T12+01", at(2013, 4, 1, 12, offset_minutes=60)),
    ("2013-091T12:00:00Z", at(2013, 4, 1, 12)),  # ordinal date
    ("2013-W14-1T12:00:00Z", at(2013, 4, 1, 12)),  # week date
    ("2013-04-01T12:00:00,5+0100", at(2013, 4, 1, 12, 0, 0, 500000, offset_minutes=60)),
    ("2013-04-01T24:00:00Z", at(2013, 4, 2)),  # end of day
]
ONLY_200 = [("2013-05-18 05:32:34.804Z", at(2013, 5, 18, 5, 32, 34, 804000))]  # D6 space
BOTH_INVALID = [
    ("should fail", "must be an"),
    ("01/011/2015", "must be an"),
    ("2013-04-01", "must be an"),  # a date is not a Timestamp
    ("2008-09-15T15:53:00.601-00:00", "may not use the offset -00:00"),
    ("2013-02-29T00:00:00Z", "is not a valid date and time (day is out of range for month)"),
    ("2013-04-01T12:00:00+24:00", "must have a UTC offset between -23:59 and +23:59"),
    ("2013-04-01T12:00:00+01:60", "must have a UTC offset between -23:59 and +23:59"),
    ("0000-01-01T00:00:00Z", "is not a valid date and time"),
    ("2013-04-01T12:00:00.Z", "must be an"),
    ("20130401T12:00:00Z", "must be an"),  # basic date with extended time
]


@pytest.mark.parametrize(("value", "expected"), BOTH_VALID + ONLY_103)
def test_parse_timestamp_103(value: str, expected: dt.datetime) -> None:
    parsed = parse_timestamp(value, "1.0.3")
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()  # the offset is preserved


@pytest.mark.parametrize(("value", "expected"), BOTH_VALID + ONLY_200)
def test_parse_timestamp_200(value: str, expected: dt.datetime) -> None:
    parsed = parse_timestamp(value, "2.0.0")
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("value", "message"), BOTH_INVALID + [(v, "must be an ISO 8601") for v, _ in ONLY_200]
)
def test_parse_timestamp_103_rejects(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_timestamp(value, "1.0.3")


@pytest.mark.parametrize(
    ("value", "message"),
    BOTH_INVALID
    + [(v, "must be an RFC 3339") for v, _ in ONLY_103 if "24:00" not in v]
    + [("2013-04-01T24:00:00Z", "hour must be in 0..23"), ("2008-09-15T15:53:00-0000", "RFC 3339")],
)
def test_parse_timestamp_200_rejects(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_timestamp(value, "2.0.0")


def test_parse_timestamp_negative_zero_offsets_103() -> None:
    # XAPI-00123 (configs/timestamps.js in both suites): -00, -0000, -00:00 are rejected.
    for value in ("2008-09-15T15:53:00.601-00", "2008-09-15T15:53:00.601-0000"):
        with pytest.raises(ValueError, match="-00:00"):
            parse_timestamp(value, "1.0.3")


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59.999-23:59",  # 10000-01-01T23:58:59.999Z
        "9999-12-31T23:59:59.999-00:01",
        "0001-01-01T00:00:00+00:01",  # 0000-12-31T23:59:00Z
        "0001-01-01T00:00:00.000+23:59",
    ],
)
def test_parse_timestamp_rejects_an_instant_outside_the_utc_calendar(value, version) -> None:
    # Accepted, it was a 500 under 2.0.0 (converting it to UTC) and under 1.0.3 a learner
    # record that failed whenever it was read (a fuzzer's find).
    with pytest.raises(ValueError, match="out of range: in UTC it must fall in the years 1"):
        parse_timestamp(value, version)


@pytest.mark.parametrize("value", ["9999-12-31T24:00:00Z", "9999-12-31T24:00Z", "9999-W52-5T24Z"])
def test_parse_timestamp_103_end_of_the_last_day_is_out_of_range(value) -> None:
    # 24:00 is midnight of the next day: the year 10000 (an OverflowError, a 500, before).
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(value, "1.0.3")


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59+01:00", "0001-01-01T00:00:00-01:00"]
)
def test_parse_timestamp_the_edges_of_the_utc_calendar_are_timestamps(value) -> None:
    for version in ("1.0.3", "2.0.0"):
        assert parse_timestamp(value, version).astimezone(dt.UTC).year in (1, 9999)


def test_parse_timestamp_argument_errors() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_timestamp(20130401, "2.0.0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        parse_timestamp("2013-04-01T12:00:00Z", "1.0.0")


# --- Durations (Data 4.6, XAPI-00124; D10) ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "PT4H35M59.14S",
            IsoDuration(hours=Decimal(4), minutes=Decimal(35), seconds=Decimal("59.14")),
        ),
        ("PT16559.14S", IsoDuration(seconds=Decimal("16559.14"))),
        (
            "P3Y1M29DT4H35M59.14S",
            IsoDuration(
                Decimal(3), Decimal(1), None, Decimal(29), Decimal(4), Decimal(35), Decimal("59.14")
            ),
        ),
        ("P3Y", IsoDuration(years=Decimal(3))),
        ("P4W", IsoDuration(weeks=Decimal(4))),
        ("PT1H0M0.1S", IsoDuration(hours=Decimal(1), minutes=Decimal(0), seconds=Decimal("0.1"))),
        ("P0.5Y", IsoDuration(years=Decimal("0.5"))),
        ("PT1H30,5M", IsoDuration(hours=Decimal(1), minutes=Decimal("30.5"))),
        (
            "P1DT12H36M0.12567S",
            IsoDuration(
                days=Decimal(1), hours=Decimal(12), minutes=Decimal(36), seconds=Decimal("0.12567")
            ),
        ),
    ],
)
def test_parse_duration(value: str, expected: IsoDuration) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("P4W1D", "must be an ISO 8601 duration"),  # weeks cannot be combined
        ("PA1H0M0S", "must be an ISO 8601 duration"),
        ("P", "must be an ISO 8601 duration"),
        ("PT", "must be an ISO 8601 duration"),
        ("P1DT", "must have an hour, minute or second component after T"),
        ("PT1.5H30M", "may only have a decimal fraction on its smallest component"),
        ("-P1D", "must be an ISO 8601 duration"),
        ("pt1h", "must be an ISO 8601 duration"),
        ("P0003-01-01T00:00:00", "must be an ISO 8601 duration"),  # 4.4.3.3 alternative format
        ("P00030101T000000", "must be an ISO 8601 duration"),
        ("PT1H 30M", "must be an ISO 8601 duration"),
    ],
)
def test_parse_duration_rejects(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("P1DT12H36M0.12567S", "P1DT12H36M0.12S"),  # truncated, never rounded (CTS 4.2.7)
        ("P1DT12H36M0.1237S", "P1DT12H36M0.12S"),
        ("PT0.12S", "PT0.12S"),
        ("PT1,2399S", "PT1.23S"),
        ("PT1.20S", "PT1.2S"),
        ("PT1.001S", "PT1S"),
        ("PT1H", "PT1H"),
    ],
)
def test_truncate_duration(value: str, expected: str) -> None:
    assert truncate_duration(value) == expected


# --- IRIs (Data 2.2, 3.1, 4.3; XAPI-00011) ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "http://www.example.com/meetings/occurances/34534",
        "https://w3id.org/xapi/cmi5/context/extensions/sessionid",
        "urn:uuid:6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
        "mailto:xapi@adlnet.gov",
        "tag:example.com,2024:x",
        "http://例え.テスト/パス?ä=ö#frag",  # IRIs, not only URIs
        "http://[::1]:8080/x",
        "http://example.com/path/../x",  # D13: kept as sent, no normalisation here
        "http://x/%20",
        "HTTP://EXAMPLE.COM",
        "x:",
    ],
)
def test_is_iri(value: str) -> None:
    assert is_iri(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "not.a.valid.iri.com/verb",  # no scheme (XAPI-00011)
        "ab=c://should.fail.com",  # invalid scheme (CTS configs)
        "1http://x",
        "http://x y",
        "http://x/%zz",
        "http://x/#a#b",
        "http://x:80a/",
        "http://x/<a>",
        "http://x/\u0001",
        "http://adlnet.gov/xapi/ ",  # trailing space (corpus, 1.0.0 spec example)
    ],
)
def test_is_not_iri(value: str) -> None:
    assert not is_iri(value)


# --- Language tags (Data 4.2, XAPI-00013, XAPI-00121; RFC 5646) ------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "en", "en-US", "de", "zh-Hant", "sr-Latn-RS", "zh-Hans-CN", "cmn", "ase", "tlh", "es-419",
        "fr-CA", "EN-us", "de-CH-1901", "en-US-x-twain", "x-private", "i-klingon", "en-GB-oed",
        "zh-yue-HK", "sl-rozaj-biske", "en-a-bbb-b-ccc",
    ],
)  # fmt: skip
def test_is_language_tag(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize(
    "tag",
    [
        "something",  # 9 letters
        "a12345678",
        "s-something",
        "en-something-AU",
        "zh-z-aaa-z-bbb-c-ccc",  # the same extension singleton twice (RFC 5646 2.2.6)
        "de-CH-1901-1901",  # the same variant twice (RFC 5646 2.2.5)
        "en-",
        "-en",
        "en--US",
        "",
        "en_US",
    ],
)
def test_is_not_language_tag(tag: str) -> None:
    assert not is_language_tag(tag)


# --- error paths ----------------------------------------------------------------------------------


def test_flatten_messages() -> None:
    messages = {
        "actor": {"member": {0: {"mbox": ["must start with mailto:"]}}},
        "verb": ["is required"],
        "_schema": ["top"],
        "context": {"contextActivities.parent[1].id": ["must be a valid IRI"]},
        "attachments": {"[0].sha2": ["is required"]},
    }
    assert flatten_messages(messages, "statement") == [
        ("statement.actor.member[0].mbox", "must start with mailto:"),
        ("statement.verb", "is required"),
        ("statement", "top"),
        ("statement.context.contextActivities.parent[1].id", "must be a valid IRI"),
        ("statement.attachments[0].sha2", "is required"),
    ]


def test_nest_errors_round_trips_through_flatten() -> None:
    errors = [("", "whole"), ("a.b", "x"), ("[2].c", "y")]
    assert nest_errors(errors) == {"_schema": ["whole"], "a.b": ["x"], "[2].c": ["y"]}
    assert flatten_messages(nest_errors(errors), "p") == [
        ("p", "whole"),
        ("p.a.b", "x"),
        ("p[2].c", "y"),
    ]
    assert nest_errors([("", "x")]) == ["x"]


# --- the fields in plain marshmallow schemas --------------------------------------------------


class _Example(Schema):
    iri = Iri(required=True)
    names = LanguageMap()
    when = Timestamp("2.0.0")


def test_fields_in_a_plain_marshmallow_schema() -> None:
    assert _Example().load({"iri": "urn:x", "names": {"en": "x"}}) == {
        "iri": "urn:x",
        "names": {"en": "x"},
    }
    with pytest.raises(ValidationError) as raised:
        _Example().load({"names": {"bad tag!": 1}, "when": None})
    assert flatten_messages(raised.value.messages) == [
        ("iri", "is required"),
        ("names.bad tag!", "key must be a valid RFC 5646 language tag"),
        ("names.bad tag!", "must be a string"),
        ("when", "may not be null"),
    ]


def test_versioned_fields_reject_unknown_versions() -> None:
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        Timestamp("1.0")
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        Version("3.0.0")
