"""Schemathesis against /api/openapi.json (issue 13): every operation answers as documented.

Signed in as the seeded organisation's admin (a bearer token). Schema-valid requests name rows
that exist (ids are folded onto the first few rows, which the seed and earlier requests made);
schema-violating ones are sent as generated, launch token and all. The budget is per operation
and generation mode; see tests/fuzz/runner.py for the checks.
"""

import pytest
import schemathesis
from schemathesis import GenerationMode

from objectives.openapi import document
from tests.fuzz.runner import budget, fuzz

BUDGET = budget(25)
#: Ids of schema-valid requests are folded onto 1..ROWS: the seed makes about this many rows.
ROWS = 8
OPERATIONS = [
    (path, method)
    for path, operations in document("http://localhost")["paths"].items()
    for method in operations
    if path != "/api/openapi.json"  # schemathesis leaves out the document it was loaded from
]


@pytest.fixture(scope="module")
def api_schema(seeded, edge_formats):
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"bearer": {"bearer": seeded.token}}}}
    )
    return schemathesis.openapi.from_wsgi("/api/openapi.json", seeded.app, config=config)


def fold(value: int) -> int:
    return value % ROWS + 1


def existing_rows(case, mode) -> None:
    """Schema-valid requests: signed in by the token (no launch token), ids of existing rows.

    Ids in the path, the query and the body (``*_id``, ``*_ids``) are folded onto 1..ROWS.
    """
    if mode is not GenerationMode.POSITIVE:
        return
    case.query.pop("lt", None)
    for name, value in case.path_parameters.items():
        case.path_parameters[name] = fold(value)
    if isinstance(case.query.get("cycle_id"), int):
        case.query["cycle_id"] = fold(case.query["cycle_id"])
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            if name.endswith("_id") and isinstance(value, int):
                case.body[name] = fold(value)
            elif name.endswith("_ids") and isinstance(value, list):
                case.body[name] = [fold(v) if isinstance(v, int) else v for v in value]


@pytest.mark.parametrize(
    "path, method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_api_operation_answers_as_documented(api_schema, seeded, path, method, record_property):
    tally = fuzz(api_schema[path][method.upper()], seeded.app, BUDGET, existing_rows)
    record_property("fuzz_suite", "schemathesis /api/openapi.json")
    record_property("fuzz_cases", tally.cases)
    record_property("fuzz_failures", len(tally.failures))
    assert not tally.failures, tally.report()
