"""The criteria rules and the learning-fact projection, without a database."""

import pytest

from connectors.profile import MICRO_LEARNING_V1
from lrs.vocabulary import COMPLETED, PULL_REQUEST, REVIEWED
from objectives.criteria import Criterion, CriterionProgress, combine
from objectives.facts import classify_source, fact_of


def progress(*pairs):
    return [CriterionProgress(count, required) for count, required in pairs]


@pytest.mark.parametrize(
    ("rule", "k", "pairs", "percent", "met"),
    [
        ("all", None, [(1, 1), (5, 10)], 75.0, False),
        ("all", None, [(2, 1), (10, 10)], 100.0, True),
        ("any", None, [(0, 1), (3, 3)], 100.0, True),
        ("any", None, [(0, 1), (1, 4)], 25.0, False),
        ("k_of_n", 2, [(1, 1), (0, 1), (1, 1), (0, 1)], 100.0, True),  # any two of four courses
        ("k_of_n", 2, [(1, 1), (0, 1), (0, 1), (0, 1)], 50.0, False),
    ],
)
def test_rules_combine_criteria(rule, k, pairs, percent, met):
    result = combine(rule, k, progress(*pairs))
    assert result.percent == pytest.approx(percent)
    assert result.met is met


def test_criterion_percent_is_capped_and_counts_over_the_minimum_still_meet():
    assert CriterionProgress(30, 15).percent == 100.0
    assert CriterionProgress(3, 15).percent == pytest.approx(20.0)


def test_no_criteria_is_never_met():
    assert combine("all", None, []).met is False


def test_criteria_read_in_plain_words():
    criterion = Criterion.from_dict(
        {
            "verbs": [COMPLETED],
            "activity_ids": ["http://lms.example.com/courses/secure-coding"],
            "source": "lms",
            "min_score": 0.8,
        }
    )
    assert criterion.describe() == (
        "completed on secure-coding, once in the LMS with a score of at least 80%"
    )
    labelled = Criterion.from_dict({"verbs": ["http://x/v"], "label": "Give 15 code reviews"})
    assert labelled.describe() == "Give 15 code reviews"


AUTHORITY = {
    "objectType": "Agent",
    "account": {"homePage": "https://learnloop.invalid/", "name": "learnloop:connector:github:3"},
}


def statement(**extra):
    base = {
        "actor": {"mbox": "mailto:ann@example.com"},
        "verb": {"id": REVIEWED},
        "object": {
            "id": "https://github.com/o/r/pull/1",
            "definition": {"type": PULL_REQUEST},
        },
        "timestamp": "2026-03-01T10:00:00Z",
    }
    base.update(extra)
    return base


def test_sources_come_from_the_asserting_component_or_the_platform():
    assert classify_source(statement(authority=AUTHORITY)) == "code_review"
    lti = dict(AUTHORITY, account={"homePage": "x", "name": "learnloop:lti"})
    assert classify_source(statement(authority=lti)) == "lms"
    assert classify_source(statement(context={"platform": "Moodle 4.3"})) == "lms"
    badge = {"contextActivities": {"category": [{"id": MICRO_LEARNING_V1}]}}
    assert classify_source(statement(context=badge)) == "microlearning"
    assert classify_source(statement()) == "xapi"


def test_fact_of_reads_time_score_and_result():
    fact = fact_of(
        statement(
            result={"score": {"raw": 45, "min": 0, "max": 50}, "success": True, "response": "LGTM"}
        ),
        stored_ms=0,
    )
    assert fact["at_ms"] == 1772359200000
    assert fact["score"] == pytest.approx(0.9)
    assert fact["success"] is True and fact["has_response"] is True
    assert fact["activity_type"] == PULL_REQUEST


def test_same_event_twice_has_one_fingerprint():
    a = fact_of(statement(id="11111111-1111-4111-8111-111111111111"), 0)
    b = fact_of(
        statement(id="22222222-2222-4222-8222-222222222222", actor={"mbox": "mailto:x@y.z"}), 0
    )
    c = fact_of(statement(timestamp="2026-03-01T10:00:01Z"), 0)
    assert a["fingerprint"] == b["fingerprint"] != c["fingerprint"]


def test_a_code_review_body_length_counts_as_a_written_response():
    # connectors store a review's length, never its text (code-review profile extension)
    from objectives.facts import BODY_LENGTH

    assert fact_of(statement(result={"extensions": {BODY_LENGTH: 42}}), 0)["has_response"] is True
    assert fact_of(statement(result={"extensions": {BODY_LENGTH: 0}}), 0)["has_response"] is False


def test_very_long_iris_are_capped_in_facts_to_fit_the_index():
    from objectives.facts import IRI_BYTES, cap

    long_iri = "https://example.com/" + "é" * 2000
    fact = fact_of(statement(object={"id": long_iri}), 0)
    assert len(fact["activity_id"].encode()) <= IRI_BYTES
    assert fact["activity_id"] == cap(long_iri)  # criteria are cut the same way
    assert cap("https://example.com/short") == "https://example.com/short"
