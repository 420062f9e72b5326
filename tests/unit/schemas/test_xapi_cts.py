"""Every statement the ADL LRS conformance test suite POSTs from its template configs.

The suite (read-only at /opt/cts, or $LEARNLOOP_CTS_DIR) lists, in ``test/<dir>/configs/*.js``,
statements built from ``test/<dir>/templates/**`` and the status it expects: 400 (reject) or
200 (accept). ``cts_statement_cases.js`` rebuilds them with the suite's own helper under node;
this module checks that ``validate_statements`` gives the same verdict for the matching xAPI
version: ``v1_0_3`` for 1.0.3 and ``v2_0`` for 2.0.0. Test ids are
``<dir>/<config>::<requirement ids>::<test name>``, the requirement ids (``XAPI-000nn``, ``Data
x.y``) coming from the suite's own description.

Known CTS quirks (the verdict still matches; the rule the name claims is tested elsewhere, in
test_xapi.py):

* timestamps.js "substatement ..." cases set the *statement's* timestamp, not the SubStatement's;
* results.js '"extensions" property is numeric/string' cases break ``duration`` instead;
* accountobjects.js / formatting.js "context team" cases put the Group in ``instructor``;
* activities.js 'statement activity "extension" invalid iri' is built on a SubStatement.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from schemas.fields import flatten_messages
from schemas.xapi import StatementValidationError, statement_schema, validate_statements

CTS_DIR = pathlib.Path(os.environ.get("LEARNLOOP_CTS_DIR", "/opt/cts"))
EXTRACTOR = pathlib.Path(__file__).with_name("cts_statement_cases.js")
SUITES = {"v1_0_3": "1.0.3", "v2_0": "2.0.0"}


def _load_cases() -> tuple[list, str | None]:
    """All (suite dir, case) pairs, or ([], reason to skip)."""
    node = shutil.which("node")
    if node is None:
        return [], "node is not installed: cannot build the CTS statements"
    if not (CTS_DIR / "test" / "helper.js").exists():
        return [], f"the ADL conformance test suite is not at {CTS_DIR}"
    cases = []
    for directory in SUITES:
        completed = subprocess.run(
            [node, str(EXTRACTOR), str(CTS_DIR), directory],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            return [], f"could not build the CTS statements: {completed.stderr.strip()[-300:]}"
        cases.extend((directory, case) for case in json.loads(completed.stdout))
    return cases, None


CASES, SKIP_REASON = _load_cases()


def _case_id(directory: str, case: dict) -> str:
    requirements = sorted(set(re.findall(r"XAPI-\d{5}(?:-\d)?", case["suite"])))
    return f"{directory}/{case['file']}::{','.join(requirements) or '-'}::{case['name']}"


@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
@pytest.mark.parametrize(
    ("directory", "case"),
    [pytest.param(d, c, id=_case_id(d, c)) for d, c in CASES] or [pytest.param(None, None)],
)
def test_cts_verdict(directory: str, case: dict) -> None:
    version = SUITES[directory]
    (expected,) = case["expect"]
    try:
        validate_statements(case["statement"], version)
    except StatementValidationError as exc:
        assert expected == 400, f"rejected a statement the CTS accepts: {exc.errors}"
    else:
        assert expected == 200, "accepted a statement the CTS rejects"


@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_cts_case_count() -> None:
    # Both suites were read, and all their config files: 950 + 972 cases at the time of writing.
    per_suite = {d: sum(1 for directory, _ in CASES if directory == d) for d in SUITES}
    assert per_suite["v1_0_3"] > 900
    assert per_suite["v2_0"] > per_suite["v1_0_3"]  # + contextagents.js, contextgroups.js


@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_marshmallow_validate_agrees_with_the_fast_path_on_every_cts_case() -> None:
    """Schema.validate (marshmallow's own machinery at the statement level) and the compiled
    XapiSchema.check that validate_statements uses give the same (path, message) pairs."""
    for directory, case in CASES:
        schema = statement_schema(SUITES[directory])
        fast: list = []
        schema.check(case["statement"], "statement", fast)
        slow = flatten_messages(schema.validate(case["statement"]), "statement")
        assert sorted(fast) == sorted(slow), _case_id(directory, case)
