"""Real statements to fuzz from: the corpus (../shared/corpus, or $LEARNLOOP_CORPUS_DIR).

Read at test time, never copied into the repository (as tests/unit/schemas/test_xapi_corpus.py
does). Without the corpus, three statements written here stand in, so the fuzzers still run.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib

CORPUS_DIR = pathlib.Path(os.environ.get("LEARNLOOP_CORPUS_DIR", "/work/shared/corpus"))

STAND_INS = [
    {
        "actor": {"mbox": "mailto:ann@example.com", "name": "Ann"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "done"}},
        "object": {
            "id": "http://example.com/courses/secure-coding",
            "definition": {"type": "http://adlnet.gov/expapi/activities/course"},
        },
        "result": {"score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}, "success": True},
        "context": {
            "registration": "6fbd600f-d17c-4c74-801a-2ec2e53231c2",
            "contextActivities": {"parent": [{"id": "http://example.com/trails/security"}]},
        },
        "timestamp": "2026-03-01T10:00:00.000Z",
    },
    {
        "actor": {
            "objectType": "Group",
            "member": [{"account": {"homePage": "https://lms.example", "name": "42"}}],
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {
            "id": "http://example.com/q/1",
            "definition": {
                "interactionType": "choice",
                "correctResponsesPattern": ["a"],
                "choices": [{"id": "a", "description": {"en": "A"}}],
            },
        },
        "result": {"response": "a", "duration": "PT1M2.5S"},
    },
    {
        "actor": {"openid": "http://openid.example/ann"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {
            "objectType": "SubStatement",
            "actor": {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"},
        },
    },
]


@functools.cache
def corpus_statements() -> list[dict]:
    """The statements the ADL reference LRS accepted, in file order; the stand-ins without it."""
    directory = CORPUS_DIR / "statements"
    if not directory.is_dir():
        return STAND_INS
    found = []
    for path in sorted(directory.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            if entry["adl_2_0_0"]["status"] == 200:
                found.append(entry["statement"])
    return found or STAND_INS
