"""The vocabulary of the connectors: IRIs of our two xAPI Profiles and the registry terms reused.

The profiles themselves are JSON-LD documents next to this module (``profiles/*.jsonld``),
served by every installation at ``/profiles/<name>``. Their IRIs are fixed, not derived from
``LEARNLOOP_PUBLIC_URL``: statements and objectives must mean the same thing in every
installation and after a change of host name, so the IRIs live under one permanent-identifier
namespace (``https://w3id.org/learnloop/``) that redirects to the published documents.

Registry verbs and activity types are reused wherever one fits (Activity Streams 1.0, ADL,
Tin Can registry, DoD ISD); only what no registry has is minted here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

BASE = "https://w3id.org/learnloop/profiles"

# ---- Code review ------------------------------------------------------------------------
CODE_REVIEW = f"{BASE}/code-review"
CODE_REVIEW_V1 = f"{CODE_REVIEW}/v1"

REVIEWED = "http://id.tincanapi.com/verb/reviewed"
APPROVED = "http://activitystrea.ms/schema/1.0/approve"
REQUESTED_CHANGES = f"{CODE_REVIEW}/verbs/requested-changes"
COMMENTED = "http://adlnet.gov/expapi/verbs/commented"
AUTHORED = "http://activitystrea.ms/schema/1.0/author"
REVISED = "http://activitystrea.ms/schema/1.0/update"
MERGED = f"{CODE_REVIEW}/verbs/merged"

VERB_DISPLAY = {
    REVIEWED: "reviewed",
    APPROVED: "approved",
    REQUESTED_CHANGES: "requested changes",
    COMMENTED: "commented",
    AUTHORED: "authored",
    REVISED: "revised",
    MERGED: "merged",
}

PULL_REQUEST = f"{CODE_REVIEW}/activity-types/pull-request"
REPOSITORY = f"{CODE_REVIEW}/activity-types/repository"
REVIEW_COMMENT = f"{CODE_REVIEW}/activity-types/review-comment"
ROLE_AUTHOR = f"{CODE_REVIEW}/roles/author"

EXT_LINES_CHANGED = f"{CODE_REVIEW}/extensions/lines-changed"
EXT_FILES = f"{CODE_REVIEW}/extensions/files"
EXT_SOURCE_ACCOUNT = f"{CODE_REVIEW}/extensions/source-account"
EXT_VERDICT = f"{CODE_REVIEW}/extensions/verdict"
EXT_BODY_LENGTH = f"{CODE_REVIEW}/extensions/body-length"
EXT_REVIEW_LATENCY = f"{CODE_REVIEW}/extensions/review-latency"

VERDICT_APPROVED = "approved"
VERDICT_CHANGES_REQUESTED = "changes-requested"
VERDICT_COMMENTED = "commented"

# ---- Micro-learning ---------------------------------------------------------------------
MICRO_LEARNING = f"{BASE}/micro-learning"
MICRO_LEARNING_V1 = f"{MICRO_LEARNING}/v1"

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EARNED = "http://id.tincanapi.com/verb/earned"
ACHIEVED = "https://w3id.org/xapi/dod-isd/verbs/achieved"

MODULE = "http://adlnet.gov/expapi/activities/module"
UNIT = "http://adlnet.gov/expapi/activities/lesson"
TRAIL = "http://adlnet.gov/expapi/activities/course"
BADGE = "http://activitystrea.ms/schema/1.0/badge"
POINTS = f"{MICRO_LEARNING}/activity-types/points"
RANK = f"{MICRO_LEARNING}/activity-types/rank"

MICRO_VERB_DISPLAY = {COMPLETED: "completed", EARNED: "earned", ACHIEVED: "achieved"}

# ---- The documents ----------------------------------------------------------------------
PROFILE_FILES = {"code-review": "code-review.jsonld", "micro-learning": "micro-learning.jsonld"}
PROFILE_CONTEXT = "https://w3id.org/xapi/profiles/context"


@cache
def profile_text(name: str) -> str:
    """The JSON-LD text of the profile ``name`` (a key of ``PROFILE_FILES``); KeyError if none."""
    return (Path(__file__).parent / "profiles" / PROFILE_FILES[name]).read_text(encoding="utf-8")


def profile_document(name: str) -> dict:
    """The profile ``name`` as parsed JSON (a fresh copy)."""
    return json.loads(profile_text(name))


def vocabulary(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """The verbs and activity types a statement under profile ``name`` may use.

    Those the profile defines as concepts plus the registry terms its statement templates
    reference (a profile reuses a registry term by naming it in a template).
    """
    document = profile_document(name)
    verbs = {c["id"] for c in document["concepts"] if c["type"] == "Verb"}
    types = {c["id"] for c in document["concepts"] if c["type"] == "ActivityType"}
    for template in document.get("templates", []):
        if "verb" in template:
            verbs.add(template["verb"])
        if "objectActivityType" in template:
            types.add(template["objectActivityType"])
        for key in (
            "contextGroupingActivityType",
            "contextParentActivityType",
            "contextOtherActivityType",
            "contextCategoryActivityType",
        ):
            types.update(template.get(key, []))
    return frozenset(verbs), frozenset(types)
