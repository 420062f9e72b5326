"""Allowance periods (pure): a month or a quarter, in UTC, start inclusive and end exclusive."""

from __future__ import annotations

import datetime as dt

from schemas.recognition import PERIODS


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The period (``month`` or ``quarter``) that contains ``day``: its first day, the next's."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    first_month = day.month if period == "month" else 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    months = 1 if period == "month" else 3
    index = start.month - 1 + months
    return start, dt.date(start.year + index // 12, index % 12 + 1, 1)


def day_of_ms(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def start_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
