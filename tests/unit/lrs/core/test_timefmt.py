"""The LRS's own timestamp serialisation and UTC conversion (9274.1.1 §4.2.7; delta D6-D8)."""

import datetime as dt

import pytest

from lrs.core.timefmt import format_ms, http_date, timestamp_to_utc, to_ms


def test_stored_serialisation_is_utc_with_milliseconds():
    moment = dt.datetime(2026, 11, 27, 21, 30, 0, 123456, tzinfo=dt.UTC)
    assert format_ms(to_ms(moment)) == "2026-11-27T21:30:00.123Z"


def test_http_date_for_last_modified():
    moment = dt.datetime(2026, 11, 27, 21, 30, 0, tzinfo=dt.UTC)
    assert http_date(to_ms(moment)) == "Fri, 27 Nov 2026 21:30:00 GMT"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        # CTS 2.0 4.2.7: 12:00 at -05:00 must come back as the same instant in UTC.
        ("2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00Z"),
        ("2023-05-04T12:00:00.1234+01:30", "2023-05-04T10:30:00.1234Z"),
        ("2023-05-04T23:30:00.5-05:00", "2023-05-05T04:30:00.5Z"),
        ("2023-05-04T12:00:00Z", "2023-05-04T12:00:00Z"),
        ("2008-09-15T15:53:00.601+00:00", "2008-09-15T15:53:00.601+00:00"),
        ("2023-05-04 12:00:00Z", "2023-05-04T12:00:00Z"),
    ],
)
def test_timestamps_are_converted_to_utc_keeping_their_precision(sent, stored):
    assert timestamp_to_utc(sent) == stored
