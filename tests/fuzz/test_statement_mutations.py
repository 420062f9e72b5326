"""Real statements, mutated, POSTed under xAPI 1.0.3 and 2.0.0 (issue 13): never a 5xx.

Hypothesis takes statements from the corpus (tests/fuzz/corpus.py) and changes up to three
places in each: a property dropped or duplicated, a value replaced by a strange one (huge
integers, floats, NaN, deep nesting, NUL, lone surrogates, wrong types, non-IRIs, odd unicode,
the ends of the calendar), an unknown property added, a key sent twice in the JSON text; half
are sent as one of the seeded people. Alone or in a batch, they are POSTed with a fixed seed
and budget. Every answer is a 200 with one id per statement, or a 4xx with the JSON error
body; an accepted statement reads back by its id; the worker counts every accepted statement
without an error; and the people's records and their team's progress are still served.
"""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from lrs.db import read_transaction
from lrs.sql import run
from tests.fuzz.conftest import EDGE_DATE_TIMES, PEOPLE
from tests.fuzz.corpus import corpus_statements
from tests.fuzz.runner import budget
from tests.support.worker import drain

BUDGET = budget(200)  # requests per version
SEED = 13
VERSIONS = ("1.0.3", "2.0.0")


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


STRANGE = [
    2**31,
    2**63,
    2**64,
    -(2**63) - 1,
    10**400,
    1e308,
    -0.0,
    5e-324,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\u202eevil",
    "ünïcödé 🎓",
    "x" * 100_000,
    "not an iri",
    "http://",
    "mailto:",
    "mailto:nobody",
    "urn:x",
    "9999-12-31T23:59:59.999-23:59",
    "0000-00-00T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "P1Y2M3DT4H5M6.7S",
    "PT-1S",
    "00000000-0000-0000-0000-000000000000",
    "6FBD600F-D17C-4C74-801A-2EC2E53231C2",
    lambda: nested(60),
    lambda: nested(200),
    {"objectType": "SubStatement"},
    {"objectType": "Group", "member": []},
    {"mbox": "mailto:a@example.com", "openid": "http://example.com/a"},
]


STRANGE_TIMES = [
    "9999-12-31T24:00:00Z",
    "9999-12-31T23:59:59.999-00:01",
    "0001-01-01T00:00:00.000+00:01",
    "2024-W01-1T00:00Z",
    "2024-366T12:00Z",
    "1970-01-01T00:00:00-00:00",
]


def fresh(value: object) -> object:
    """A new copy of a strange value: mutations change what they insert, in place."""
    return value() if callable(value) else copy.deepcopy(value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
VALUES = st.one_of(st.sampled_from(STRANGE).map(fresh), JSON)
KEYS = st.one_of(
    st.sampled_from(["id", "objectType", "mbox", "extensions", "version", "Actor", "actor "]),
    st.text(max_size=10),
)


def places(value: object, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value down to 12 levels, as a path of keys and indexes."""
    found = [path]
    if len(path) >= 12:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(places(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(places(item, (*path, index)))
    return found


def container(document: object, path: tuple) -> object:
    for step in path:
        document = document[step]
    return document


@st.composite
def mutated_statement(draw) -> object:
    statement = copy.deepcopy(draw(st.sampled_from(corpus_statements())))
    if draw(st.booleans()):  # a fresh id, so most are new statements rather than conflicts
        statement["id"] = str(draw(st.uuids()))
    if draw(st.booleans()):  # someone with objectives and a record, read at the end
        statement["actor"] = {"mbox": f"mailto:{draw(st.sampled_from(PEOPLE))}@example.com"}
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(places(statement)))
        kind = draw(st.sampled_from(["drop", "duplicate", "replace", "add", "wrap", "time"]))
        if kind == "time" and isinstance(statement, dict):  # the ends of the calendar
            statement["timestamp"] = draw(st.sampled_from(EDGE_DATE_TIMES + STRANGE_TIMES))
            continue
        if not path:  # the statement itself
            if kind == "replace":
                return draw(VALUES)
            if isinstance(statement, dict):
                statement[draw(KEYS)] = draw(VALUES)
            continue
        parent, key = container(statement, path[:-1]), path[-1]
        if kind == "drop":
            del parent[key]
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif kind == "duplicate":
            parent[draw(KEYS)] = parent[key]
        elif kind == "add" and isinstance(parent[key], dict):
            parent[key][draw(KEYS)] = draw(VALUES)
        elif kind == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"x": parent[key]}, nested(70)]))
        else:
            parent[key] = draw(VALUES)
    return statement


@st.composite
def body(draw) -> bytes:
    """One mutated statement or a batch of them, as JSON text; sometimes a key sent twice."""
    if draw(st.booleans()):
        data = draw(mutated_statement())
    else:
        data = draw(st.lists(mutated_statement(), min_size=1, max_size=3))
    text = json.dumps(data, allow_nan=True)
    if isinstance(data, dict) and data and draw(st.integers(0, 4)) == 0:
        key = draw(st.sampled_from(sorted(data)))
        text = text[:-1] + f", {json.dumps(key)}: {json.dumps(draw(VALUES), allow_nan=True)}}}"
    return text.encode("utf-8", "surrogatepass")


def check_answer(client, headers: dict, response) -> str | None:
    """What is wrong with the LRS's answer to ``sent``, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
    answer = response.get_json(silent=True)
    if response.status_code >= 400:
        if not (
            isinstance(answer, dict)
            and answer.get("status") == response.status_code
            and isinstance(answer.get("message"), str)
            and isinstance(answer.get("errors"), list)
        ):
            return f"{response.status_code} without the JSON error body: {response.data[:300]!r}"
        return None
    if response.status_code != 200 or not isinstance(answer, list):
        return f"{response.status_code} {response.data[:300]!r}"
    for statement_id in answer:
        read = client.get(
            "/xapi/statements", query_string={"statementId": statement_id}, headers=headers
        )
        if read.status_code != 200 or not isinstance(read.get_json(silent=True), dict):
            return f"stored {statement_id} but reading it back gave {read.status_code}"
    return None


def post_mutations(client, basic: str, version: str, fixed_seed: int, tally: dict) -> None:
    """POST ``BUDGET`` mutated bodies under ``version``; count them and what went wrong."""
    headers = {
        "Authorization": basic,
        "X-Experience-API-Version": version,
        "Content-Type": "application/json",
    }

    @seed(fixed_seed)
    @settings(
        max_examples=BUDGET,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(sent=body())
    def post(sent):
        tally["cases"] += 1
        response = client.post("/xapi/statements", data=sent, headers=headers)
        problem = check_answer(client, headers, response)
        if problem:
            tally["failures"].append(f"{version}: {problem}\n  sent {sent[:400]!r}")

    post()


def test_mutated_corpus_statements_never_get_a_5xx(seeded, record_property):
    client = seeded.app.test_client()
    tally = {"cases": 0, "failures": []}
    for index, version in enumerate(VERSIONS):  # a seed each: not the same bodies twice
        post_mutations(client, seeded.basic, version, SEED + index, tally)
    drain(seeded.app)
    with read_transaction(seeded.app.extensions["lrs"].sessions) as session:
        errors = run(
            session, "SELECT kind, last_error FROM jobs WHERE last_error IS NOT NULL"
        ).all()
    tally["failures"].extend(f"worker: {kind}: {error[:300]}" for kind, error in errors)
    bearer = {"Authorization": f"Bearer {seeded.token}"}
    reads = [f"/api/people/{person_id}/record" for person_id in seeded.people.values()]
    for path in [*reads, "/api/cycles/1/team", "/api/people/1/record?format=csv"]:
        read = client.get(path, headers=bearer)
        if read.status_code != 200:
            tally["failures"].append(f"{path} after the statements: {read.status_code}")
    record_property("fuzz_suite", "hypothesis: mutated corpus statements")
    record_property("fuzz_cases", tally["cases"])
    record_property("fuzz_failures", len(tally["failures"]))
    assert not tally["failures"], "\n".join(tally["failures"][:10])
