"""Schemathesis against /xapi/openapi.json (issue 13): statements and documents as documented.

HTTP Basic with a credential of every scope; the version header is generated from the
document (1.0.3 and 2.0.0), so both versions are fuzzed. The store holds real statements from
the corpus, so statement reads are held to the document's Statement schema too. See
tests/fuzz/runner.py for the checks.
"""

import pytest
import schemathesis

from lrs.openapi import document
from tests.fuzz.runner import budget, fuzz

BUDGET = budget(25)
OPERATIONS = [
    (path, method)
    for path, operations in document("http://localhost")["paths"].items()
    for method in operations
]


@pytest.fixture(scope="module")
def xapi_schema(seeded, edge_formats):
    basic = {"username": seeded.key, "password": seeded.secret}
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"basic": basic}}})
    return schemathesis.openapi.from_wsgi("/xapi/openapi.json", seeded.app, config=config)


@pytest.mark.parametrize(
    "path, method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_xapi_operation_answers_as_documented(xapi_schema, seeded, path, method, record_property):
    tally = fuzz(xapi_schema[path][method.upper()], seeded.app, BUDGET)
    record_property("fuzz_suite", "schemathesis /xapi/openapi.json")
    record_property("fuzz_cases", tally.cases)
    record_property("fuzz_failures", len(tally.failures))
    assert not tally.failures, tally.report()
