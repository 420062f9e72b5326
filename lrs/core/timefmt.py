"""Timestamps as the LRS writes them: UTC, millisecond precision, one fixed serialisation.

``stored`` and the ``timestamp`` the LRS fills in are produced here, so that a statement's
``timestamp`` equals its ``stored`` string exactly when the client sent none (9274.1.1 §4.2.4.2).
"""

from __future__ import annotations

import datetime as dt
import re

UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (truncated)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=ms)


def format_ms(ms: int) -> str:
    """``2026-11-27T21:30:00.123Z`` for a millisecond count."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def http_date(ms: int) -> str:
    """An RFC 7231 HTTP-date, as ``Last-Modified`` needs."""
    return from_ms(ms).strftime("%a, %d %b %Y %H:%M:%S GMT")


_OFFSET = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<fraction>\.\d+)?"
    r"(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def timestamp_to_utc(value: str) -> str:
    """A validated xAPI timestamp converted to UTC, its fractional digits kept as sent.

    9274.1.1 §4.2.7: the LRS converts non-UTC timestamps rather than rejecting them. A timestamp
    already in UTC (``Z`` or ``+00:00``) is returned unchanged; one without an offset is UTC.
    """
    match = _OFFSET.match(value)
    if not match:
        return value
    offset = match["offset"]
    if (
        offset is None
        or offset in ("Z", "z")
        or offset.lstrip("+-").replace(":", "") in ("00", "0000")
    ):
        if match["date"] + "T" in value:
            return value
        return value.replace(" ", "T", 1)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    time_part = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    local = dt.datetime.fromisoformat(f"{match['date']}T{time_part}")
    utc = local - sign * delta
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (match["fraction"] or "") + "Z"
