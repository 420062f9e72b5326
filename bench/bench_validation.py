"""Micro-benchmark of statement validation (schemas.xapi.validate_statements).

Prints µs per statement for a typical cmi5 statement (from the shared corpus when present), a
rich statement (group actor, result with score and extensions, context with all four
contextActivities, instructor, team and extensions, attachment), each alone and in batches of
100, under both xAPI versions, and alone with the IRI / language-tag caches emptied (every IRI
seen for the first time: the worst case); then where the time goes in the rich statement.

    python bench/bench_validation.py [--profile]

Budget: the LRS stores >= 10,000 statements/s in batches of 100 on 2 cores, i.e. ~100 µs per
statement for everything on the write path; validation aims at <= 50 µs for a typical statement.
"""

from __future__ import annotations

import copy
import cProfile
import json
import pathlib
import pstats
import sys
import timeit
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrs import vocabulary as v  # noqa: E402
from schemas import fields  # noqa: E402
from schemas.xapi import _STATEMENT_SCHEMAS, validate_statements  # noqa: E402

CORPUS = pathlib.Path("/work/shared/corpus/statements/aicc-cmi5-samples.json")

# Used when the corpus is not available: the same shape as the cmi5 "completed" samples.
FALLBACK_TYPICAL = {
    "id": "a6a9f4a4-6a36-466c-91a0-6daea4e0a5a4",
    "actor": {
        "objectType": "Agent",
        "name": "Learner's Name",
        "account": {"homePage": "http://example.org/", "name": "Learner"},
    },
    "verb": {"id": v.SATISFIED, "display": {"en-US": "satisfied"}},
    "object": {
        "objectType": "Activity",
        "id": "http://example.org/cmi5/lms-id/57c4917cbe43d6c230b85640e8abacdcb90e3db2",
        "definition": {
            "name": {"en-US": "Introduction to Geology"},
            "description": {"en-US": "This course will introduce you into the basics of geology."},
            "type": "https://w3id.org/xapi/cmi5/activitytype/course",
        },
    },
    "context": {
        "registration": "4eb0e063-669b-479a-86b3-f9be9ac88a1d",
        "contextActivities": {
            "grouping": [
                {
                    "objectType": "Activity",
                    "id": "http://course-repository.example.edu/identifiers/courses/02baafcf",
                    "definition": {
                        "name": {"en-US": "Introduction to Geology"},
                        "type": "https://w3id.org/xapi/cmi5/activitytype/course",
                    },
                }
            ],
            "category": [
                {
                    "objectType": "Activity",
                    "id": "https://w3id.org/xapi/cmi5/context/categories/cmi5",
                }
            ],
        },
        "extensions": {
            "https://w3id.org/xapi/cmi5/context/extensions/sessionid": "c7b6f0a9-482c-4c03-acc1"
        },
    },
    "timestamp": "2016-06-09T15:34:37.559Z",
}

RICH = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {
        "objectType": "Group",
        "name": "Team PB",
        "mbox": "mailto:teampb@example.com",
        "member": [
            {
                "name": "Andrew Downes",
                "account": {"homePage": "http://www.example.com", "name": "1"},
            },
            {"name": "Toby Nichols", "openid": "http://toby.openid.example.org/"},
            {"name": "Ena Hills", "mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
        ],
    },
    "verb": {
        "id": v.ANSWERED,
        "display": {"en-GB": "answered", "en-US": "answered", "de-DE": "beantwortet"},
    },
    "object": {
        "id": "http://www.example.com/tincan/activities/question/2",
        "objectType": "Activity",
        "definition": {
            "name": {"en-US": "Question 2", "fr-FR": "Question 2"},
            "description": {"en-US": "Which of these prototypes are available at the beta site?"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "moreInfo": "http://www.example.com/tincan/activities/question/2/info",
            "interactionType": "choice",
            "correctResponsesPattern": ["golf[,]tetris"],
            "choices": [
                {"id": "golf", "description": {"en-US": "Golf Example"}},
                {"id": "facebook", "description": {"en-US": "Facebook App"}},
                {"id": "tetris", "description": {"en-US": "Tetris Example"}},
                {"id": "scrabble", "description": {"en-US": "Scrabble Example"}},
            ],
            "extensions": {"http://example.com/profiles/meetings/extension/location": "X:\\m"},
        },
    },
    "result": {
        "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
        "success": True,
        "completion": True,
        "response": "golf[,]tetris",
        "duration": "PT1H0M0.25S",
        "extensions": {
            "http://example.com/profiles/meetings/resultextensions/minuteslocation": "X:\\m",
            "http://example.com/profiles/meetings/resultextensions/reporter": {"name": "Thomas"},
        },
    },
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "instructor": {"name": "Lou Wolford", "account": {"homePage": "http://x.com", "name": "1"}},
        "team": {"objectType": "Group", "name": "Team", "mbox": "mailto:team@example.com"},
        "contextActivities": {
            "parent": [
                {"id": "http://www.example.com/tincan/activities/quiz", "objectType": "Activity"}
            ],
            "grouping": [{"id": "http://www.example.com/tincan/activities/course"}],
            "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            "other": [{"id": "http://www.example.com/tincan/activities/textbook"}],
        },
        "revision": "rev_10_3_2",
        "platform": "Example virtual meeting software",
        "language": "en-US",
        "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
        "extensions": {
            "http://example.com/profiles/meetings/contextextensions/airspeed": "600mph",
            "http://example.com/profiles/meetings/contextextensions/pilot": {"name": "Thomas"},
        },
    },
    "timestamp": "2013-05-18T05:32:34.804+01:00",
    "attachments": [
        {
            "usageType": "http://example.com/attachment-usage/test",
            "display": {"en-US": "A test attachment"},
            "contentType": "text/plain; charset=ascii",
            "length": 27,
            "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
            "fileUrl": "http://over.there.com/file.txt",
        }
    ],
}


def typical_statement() -> tuple[str, dict]:
    """A cmi5 statement from the shared corpus, or the built-in copy of one."""
    if CORPUS.exists():
        samples = json.loads(CORPUS.read_text())
        return f"{CORPUS.name}[5]", samples[5]["statement"]
    return "built-in cmi5 statement", FALLBACK_TYPICAL


def batch_of(statement: dict, size: int = 100) -> list[dict]:
    """``size`` distinct copies (distinct ids, as a real batch has)."""
    batch = []
    for _ in range(size):
        item = copy.deepcopy(statement)
        item["id"] = str(uuid.uuid4())
        batch.append(item)
    return batch


def per_call_us(func, number: int, repeat: int = 7) -> float:
    """Best of ``repeat`` runs of ``number`` calls, in µs per call."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def cold_us(statement: dict, version: str) -> float:
    """µs per statement when no IRI or language tag was seen before (caches emptied each time)."""

    def clear() -> None:
        fields._valid_iris.clear()
        fields._valid_language_tags.clear()

    def run() -> None:
        clear()
        validate_statements(statement, version)

    return per_call_us(run, 2000) - per_call_us(clear, 2000)


def breakdown(statement: dict, version: str) -> list[tuple[str, float]]:
    """µs spent on each top-level property of ``statement`` (the statement's own loop aside)."""
    schema = _STATEMENT_SCHEMAS[version]
    rows = []
    for key, value in statement.items():
        field = schema._fields_by_key[key]

        def run(field=field, value=value, key=key):
            errors = []
            field.check(value, key, errors, statement)

        rows.append((key, per_call_us(run, 20000)))
    return rows


def main() -> None:
    """Run the benchmark and print the table."""
    name, typical = typical_statement()
    print(f"python {sys.version.split()[0]}; typical = {name}\n")
    print(
        f"{'statement':<10} {'version':<8} {'alone µs':>9} {'batch of 100, µs/stmt':>22}"
        f" {'alone, cold caches µs':>22}"
    )
    for label, statement in (("typical", typical), ("rich", RICH)):
        for version in ("1.0.3", "2.0.0"):
            validate_statements(statement, version)  # warm caches, and prove it is valid
            alone = per_call_us(lambda s=statement, v=version: validate_statements(s, v), 5000)
            batch = batch_of(statement)
            per_stmt = per_call_us(lambda b=batch, v=version: validate_statements(b, v), 50) / len(
                batch
            )
            cold = cold_us(statement, version)
            print(f"{label:<10} {version:<8} {alone:>9.1f} {per_stmt:>22.1f} {cold:>22.1f}")

    print("\nwhere the time goes, rich statement, 2.0.0 (µs per property):")
    rows = breakdown(RICH, "2.0.0")
    for key, micros in sorted(rows, key=lambda row: -row[1]):
        print(f"  {key:<12} {micros:6.1f}")
    print(f"  {'(sum)':<12} {sum(m for _, m in rows):6.1f}")

    if "--profile" in sys.argv:
        batch = batch_of(RICH)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(100):
            validate_statements(batch, "2.0.0")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
