"""Projection of a statement to the learning fact that criteria filter on (pure).

Source: which kind of system the learning came from, told by who asserted the statement (the
authority Learnloop's own components write with), by the platform the statement names, or by
an LMS among its context activities: every LTI launch's context has the platform as an
activity of type LMS, and course content that reuses its launch's context (as cmi5 content
does) is LMS learning on any platform, whatever its name.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from lrs import vocabulary as v
from lrs.core import statements as st
from lrs.core.agents import ifi_string

# The code-review profile records a review's length, never its text.
BODY_LENGTH = v.EXT_BODY_LENGTH

SOURCES = ("lms", "code_review", "microlearning", "xapi")
DERIVED = "objectives"  # statements Learnloop derives (satisfied objectives): never evidence
LMS_PLATFORMS = ("moodle", "canvas", "blackboard", "brightspace", "d2l", "sakai", "totara")
CODE_REVIEW_MARKS = ("github", "gitlab", "gerrit", "code-review", "code_review")
MICROLEARNING_MARKS = ("microlearning", "badge", "trailhead", "micro-learning")


def classify_source(statement: dict) -> str:
    """``lms``, ``code_review``, ``microlearning`` or ``xapi`` (any other xAPI client).

    ``objectives`` marks what Learnloop itself derived (a satisfied objective): not learning.
    """
    authority = statement.get("authority") or {}
    asserted_by = ((authority.get("account") or {}).get("name") or "").lower()
    if asserted_by.startswith("learnloop:"):
        if asserted_by.startswith("learnloop:objectives"):
            return "objectives"
        if asserted_by.startswith("learnloop:lti"):
            return "lms"
        if any(mark in asserted_by for mark in CODE_REVIEW_MARKS):
            return "code_review"
        if any(mark in asserted_by for mark in MICROLEARNING_MARKS):
            return "microlearning"
    context = statement.get("context") or {}
    platform = str(context.get("platform") or "").lower()
    if any(name in platform for name in LMS_PLATFORMS):
        return "lms"
    activities = context.get("contextActivities") or {}
    for kind in ("grouping", "parent", "other"):
        for activity in activities.get(kind) or []:
            if (activity.get("definition") or {}).get("type") == v.LMS:
                return "lms"
    categories = activities.get("category") or []
    for category in categories:
        iri = category.get("id", "").lower()
        if any(mark in iri for mark in CODE_REVIEW_MARKS):
            return "code_review"
        if any(mark in iri for mark in MICROLEARNING_MARKS):
            return "microlearning"
    return "xapi"


#: IRIs in facts are cut to this many UTF-8 bytes, so that the covering index's entries stay
#: within PostgreSQL's B-tree limit (about 2.7 kB); criteria values are cut the same way.
IRI_BYTES = 512


def cap(value: str | None) -> str | None:
    """An IRI as stored in learning facts: at most IRI_BYTES bytes of UTF-8."""
    if value is None or len(value) <= IRI_BYTES // 4:
        return value
    return value.encode()[:IRI_BYTES].decode("utf-8", "ignore")


def _timestamp_ms(value: str | None) -> int | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _score(result: dict) -> float | None:
    score = result.get("score") or {}
    if "scaled" in score:
        return float(score["scaled"])
    if "raw" in score and score.get("max"):
        low = score.get("min", 0)
        span = score["max"] - low
        return (score["raw"] - low) / span if span else None
    return None


def _has_response(result: dict) -> bool:
    """A written response: ``result.response``, or a code review's body (its length only)."""
    if result.get("response"):
        return True
    length = (result.get("extensions") or {}).get(BODY_LENGTH)
    return isinstance(length, int | float) and length > 0


def fact_of(statement: dict, stored_ms: int) -> dict:
    """The learning fact of a stored statement: actor key, verb, activity, source, time, result."""
    obj = statement["object"]
    is_activity = obj.get("objectType", "Activity") == "Activity"
    activity_id = obj["id"] if is_activity else None
    activity_type = (obj.get("definition") or {}).get("type") if is_activity else None
    at_ms = _timestamp_ms(statement.get("timestamp")) or stored_ms
    result = statement.get("result") or {}
    verb_id = statement["verb"]["id"]
    parents = ((statement.get("context") or {}).get("contextActivities") or {}).get("parent") or []
    fingerprint = int.from_bytes(
        hashlib.blake2b(f"{verb_id}\x1f{activity_id}\x1f{at_ms}".encode(), digest_size=8).digest(),
        "big",
        signed=True,
    )
    return {
        "actor_key": st.term_key(st.AGENT, ifi_string(statement["actor"]) or ""),
        "verb_id": cap(verb_id),
        "activity_id": cap(activity_id),
        "activity_type": cap(activity_type),
        "parent_id": cap(parents[0].get("id")) if parents else None,
        "source": classify_source(statement),
        "at_ms": at_ms,
        "score": _score(result),
        "success": result.get("success"),
        "completion": result.get("completion"),
        "has_response": _has_response(result),
        "fingerprint": fingerprint,
    }
