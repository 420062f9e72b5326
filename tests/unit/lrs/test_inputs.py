"""The route pattern of row ids: ASCII digits worth at most the largest row id (lrs.inputs)."""

import re

import pytest

from lrs.inputs import digits_up_to
from schemas.fields import MAX_ID


@pytest.mark.parametrize("limit", [0, 5, 10, 99, 100, 1000, 12345, 20000])
def test_the_pattern_matches_exactly_the_numbers_up_to_the_limit(limit):
    pattern = re.compile(digits_up_to(limit) + r"\Z")
    assert [n for n in range(limit * 3 + 20) if pattern.match(str(n))] == list(range(limit + 1))


@pytest.mark.parametrize(
    "text, matches",
    [
        ("1", True),
        (str(MAX_ID), True),
        ("0000000007", True),  # leading zeros, as many digits as MAX_ID has
        (str(MAX_ID - 10), True),
        (str(MAX_ID + 1), False),
        ("2147483650", False),
        ("2200000000", False),
        ("9999999999", False),
        ("02147483647", False),  # one digit too many
        (str(2**63), False),
        ("", False),
        ("１", False),  # a fullwidth digit
        ("-1", False),
    ],
)
def test_the_largest_row_id_and_around_it(text, matches):
    assert bool(re.match(digits_up_to(MAX_ID) + r"\Z", text)) is matches
