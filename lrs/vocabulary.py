"""Learnloop's vocabulary, defined once: sources, verbs and activity types, with human names.

Every IRI Learnloop writes into a statement or reads in a criterion is defined here and only
here: the connectors, the micro-learning importer, LTI launches, the objectives (and their
``satisfied`` statements), the sample organisation, the criteria form and the tests take them
from this module; clients and pages read it as JSON at ``/api/vocabulary``.

Registry terms are reused wherever one fits (ADL, Activity Streams 1.0, the Tin Can registry,
DoD ISD); what no registry has is minted under our permanent namespace
(``https://w3id.org/learnloop/``), never under a host name, so statements and objectives mean
the same thing in every installation. The code-review, micro-learning, recognition and feedback xAPI
Profiles (``connectors/profiles/*.jsonld``, served at ``/profiles/<name>``) describe the minted
terms.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Our permanent namespace: what no registry has is minted under it.
NAMESPACE = "https://w3id.org/learnloop"
PROFILES = f"{NAMESPACE}/profiles"
CODE_REVIEW = f"{PROFILES}/code-review"
MICRO_LEARNING = f"{PROFILES}/micro-learning"
RECOGNITION = f"{PROFILES}/recognition"
FEEDBACK = f"{PROFILES}/feedback"


@dataclass(frozen=True)
class Term:
    """A verb or activity type: its IRI, its name for people, and the sources that use it."""

    iri: str
    name: str
    sources: tuple[str, ...] = ()


# ---- Sources: which kind of system the learning came from ---------------------------------
SOURCES = {
    "lms": "in the LMS",
    "code_review": "in code review",
    "microlearning": "in micro-learning",
    "xapi": "in other xAPI tools",
}
SOURCE_LABELS = {
    "lms": "LMS",
    "code_review": "Code review",
    "microlearning": "Micro-learning",
    "xapi": "xAPI",
    "objectives": "Learnloop",
}
SOURCE_NAMES = {
    "lms": "LMS (LTI launches and course statements)",
    "code_review": "Code review (GitHub, GitLab, Gerrit)",
    "microlearning": "Micro-learning and badges",
    "xapi": "Other xAPI tools",
}

# ---- Verbs ----------------------------------------------------------------------------------
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
FAILED = "http://adlnet.gov/expapi/verbs/failed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
COMMENTED = "http://adlnet.gov/expapi/verbs/commented"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
REVIEWED = "http://id.tincanapi.com/verb/reviewed"
EARNED = "http://id.tincanapi.com/verb/earned"
ACHIEVED = "https://w3id.org/xapi/dod-isd/verbs/achieved"
APPROVED = "http://activitystrea.ms/schema/1.0/approve"
AUTHORED = "http://activitystrea.ms/schema/1.0/author"
REVISED = "http://activitystrea.ms/schema/1.0/update"
REQUESTED_CHANGES = f"{CODE_REVIEW}/verbs/requested-changes"
MERGED = f"{CODE_REVIEW}/verbs/merged"
#: Recognition (kudos) and contributions to others' learning that leaderboards count.
RECEIVED = "http://activitystrea.ms/schema/1.0/receive"
MENTORED = "http://id.tincanapi.com/verb/mentored"
PRESENTED = "http://id.tincanapi.com/verb/presented"
#: Feedback: taking part in an after-action review, being mentored in a session.
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"

VERBS = (
    Term(COMPLETED, "completed", ("lms", "microlearning", "xapi")),
    Term(PASSED, "passed", ("lms", "xapi")),
    Term(FAILED, "failed", ("lms", "xapi")),
    Term(ATTEMPTED, "attempted", ("lms", "xapi")),
    Term(EXPERIENCED, "experienced", ("lms", "xapi")),
    Term(ANSWERED, "answered", ("lms", "xapi")),
    Term(LAUNCHED, "launched", ("lms",)),
    Term(REVIEWED, "reviewed", ("code_review",)),
    Term(APPROVED, "approved", ("code_review",)),
    Term(REQUESTED_CHANGES, "requested changes", ("code_review",)),
    Term(COMMENTED, "commented", ("code_review", "xapi")),
    Term(AUTHORED, "authored", ("code_review",)),
    Term(REVISED, "revised", ("code_review",)),
    Term(MERGED, "merged", ("code_review",)),
    Term(EARNED, "earned", ("microlearning",)),
    Term(ACHIEVED, "achieved", ("microlearning",)),
    Term(RECEIVED, "received", ("xapi",)),
    Term(MENTORED, "mentored", ("xapi",)),
    Term(PRESENTED, "presented", ("xapi",)),
    Term(ATTENDED, "attended", ("xapi",)),
    Term(SATISFIED, "satisfied (an objective met)", ()),
)

# ---- Activity types -----------------------------------------------------------------------
COURSE = "http://adlnet.gov/expapi/activities/course"
MODULE = "http://adlnet.gov/expapi/activities/module"
LESSON = "http://adlnet.gov/expapi/activities/lesson"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
LINK = "http://adlnet.gov/expapi/activities/link"
OBJECTIVE = "http://adlnet.gov/expapi/activities/objective"
LMS = "http://id.tincanapi.com/activitytype/lms"
BADGE = "http://activitystrea.ms/schema/1.0/badge"
PULL_REQUEST = f"{CODE_REVIEW}/activity-types/pull-request"
REPOSITORY = f"{CODE_REVIEW}/activity-types/repository"
REVIEW_COMMENT = f"{CODE_REVIEW}/activity-types/review-comment"
POINTS = f"{MICRO_LEARNING}/activity-types/points"
RANK = f"{MICRO_LEARNING}/activity-types/rank"
KUDOS = f"{RECOGNITION}/activity-types/kudos"
ARTICLE = "http://activitystrea.ms/schema/1.0/article"
AFTER_ACTION_REVIEW = f"{FEEDBACK}/activity-types/after-action-review"
MENTORING_SESSION = f"{FEEDBACK}/activity-types/mentoring-session"
#: A micro-learning trail (a path of modules) is a course in the ADL vocabulary.
TRAIL = COURSE

ACTIVITY_TYPES = (
    Term(COURSE, "course", ("lms", "microlearning", "xapi")),
    Term(MODULE, "module", ("lms", "microlearning", "xapi")),
    Term(LESSON, "lesson or unit", ("lms", "microlearning", "xapi")),
    Term(ASSESSMENT, "assessment", ("lms", "xapi")),
    Term(LINK, "LMS link", ("lms",)),
    Term(PULL_REQUEST, "pull request (merge request, change)", ("code_review",)),
    Term(REPOSITORY, "repository", ("code_review",)),
    Term(REVIEW_COMMENT, "review comment", ("code_review",)),
    Term(BADGE, "badge", ("microlearning",)),
    Term(POINTS, "points", ("microlearning",)),
    Term(RANK, "rank", ("microlearning",)),
    Term(KUDOS, "kudos", ("xapi",)),
    Term(ARTICLE, "knowledge-base article", ("xapi",)),
    Term(AFTER_ACTION_REVIEW, "after-action review", ("xapi",)),
    Term(MENTORING_SESSION, "mentoring session", ("xapi",)),
    Term(OBJECTIVE, "objective", ()),
    Term(LMS, "learning management system", ()),
)

# ---- Roles and extensions of the code-review profile ---------------------------------------
ROLE_AUTHOR = f"{CODE_REVIEW}/roles/author"
EXT_LINES_CHANGED = f"{CODE_REVIEW}/extensions/lines-changed"
EXT_FILES = f"{CODE_REVIEW}/extensions/files"
EXT_SOURCE_ACCOUNT = f"{CODE_REVIEW}/extensions/source-account"
EXT_VERDICT = f"{CODE_REVIEW}/extensions/verdict"
EXT_BODY_LENGTH = f"{CODE_REVIEW}/extensions/body-length"
EXT_REVIEW_LATENCY = f"{CODE_REVIEW}/extensions/review-latency"

# ---- Roles and extensions of the recognition profile ---------------------------------------
ROLE_GIVER = f"{RECOGNITION}/roles/giver"
EXT_POINTS = f"{RECOGNITION}/extensions/points"

# ---- Roles of the feedback profile -----------------------------------------------------------
ROLE_MENTOR = f"{FEEDBACK}/roles/mentor"
ROLE_MENTEE = f"{FEEDBACK}/roles/mentee"

# ---- Extensions of Learnloop's own statements -----------------------------------------------
#: On a ``satisfied`` statement: the ids of the statements that met the objective.
EXT_EVIDENCE = f"{NAMESPACE}/extensions/evidence"

_NAMES = {t.iri: t.name for t in (*VERBS, *ACTIVITY_TYPES)}


def known_name(iri: str) -> str | None:
    """The name of a term of this vocabulary; None for any other IRI."""
    return _NAMES.get(iri)


def name_of(iri: str | None) -> str:
    """A term's name for people; an unknown IRI's last path segment."""
    if not iri:
        return ""
    return _NAMES.get(iri) or iri.rstrip("/").rsplit("/", 1)[-1]


def as_json() -> dict:
    """The vocabulary as ``/api/vocabulary`` serves it."""

    def terms(items: tuple[Term, ...]) -> list[dict]:
        return [{"id": t.iri, "name": t.name, "sources": list(t.sources)} for t in items]

    return {
        "sources": [{"id": key, "name": SOURCE_NAMES[key]} for key in SOURCES],
        "verbs": terms(VERBS),
        "activity_types": terms(ACTIVITY_TYPES),
        "profiles": {
            "code-review": CODE_REVIEW,
            "micro-learning": MICRO_LEARNING,
            "recognition": RECOGNITION,
            "feedback": FEEDBACK,
        },
    }
