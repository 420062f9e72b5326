"""Learnloop's xAPI Profiles: their documents, and the terms they use (``lrs.vocabulary``).

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

from lrs import vocabulary as v
from lrs.vocabulary import (  # noqa: F401  (the connectors' terms, defined in lrs.vocabulary)
    ACHIEVED,
    APPROVED,
    AUTHORED,
    BADGE,
    CODE_REVIEW,
    COMMENTED,
    COMPLETED,
    EARNED,
    EXT_BODY_LENGTH,
    EXT_FILES,
    EXT_LINES_CHANGED,
    EXT_REVIEW_LATENCY,
    EXT_SOURCE_ACCOUNT,
    EXT_VERDICT,
    MERGED,
    MICRO_LEARNING,
    MODULE,
    POINTS,
    PULL_REQUEST,
    RANK,
    REPOSITORY,
    REQUESTED_CHANGES,
    REVIEW_COMMENT,
    REVIEWED,
    REVISED,
    ROLE_AUTHOR,
    TRAIL,
)
from lrs.vocabulary import LESSON as UNIT  # noqa: F401

CODE_REVIEW_V1 = f"{CODE_REVIEW}/v1"
MICRO_LEARNING_V1 = f"{MICRO_LEARNING}/v1"

VERB_DISPLAY = {
    iri: v.name_of(iri)
    for iri in (REVIEWED, APPROVED, REQUESTED_CHANGES, COMMENTED, AUTHORED, REVISED, MERGED)
}
MICRO_VERB_DISPLAY = {iri: v.name_of(iri) for iri in (COMPLETED, EARNED, ACHIEVED)}

VERDICT_APPROVED = "approved"
VERDICT_CHANGES_REQUESTED = "changes-requested"
VERDICT_COMMENTED = "commented"

# ---- The documents ----------------------------------------------------------------------
PROFILE_FILES = {
    "code-review": "code-review.jsonld",
    "micro-learning": "micro-learning.jsonld",
    "recognition": "recognition.jsonld",  # kudos and badges (the recognition package)
    "feedback": "feedback.jsonld",  # after-action reviews and mentoring (the feedback package)
}
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
