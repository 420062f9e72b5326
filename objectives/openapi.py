"""The OpenAPI 3 document of /api: every route with every answer it gives.

Request bodies come from the marshmallow schemas that validate them (``schemas.objectives``),
with what marshmallow cannot say added here: a criterion needs a target, ``k`` goes with
``k_of_n``, identifiers are IRIs. Responses are written out. ``ROUTES`` lists every route of
``objectives.views`` with the status codes its code can answer; the fuzzing tests
(tests/fuzz) hold the server to this document, and tests/objectives/test_openapi.py holds the
document to the routes.
"""

from __future__ import annotations

from dataclasses import dataclass

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from lrs import audit
from schemas import feedback as feedback_schemas
from schemas import objectives as schemas
from schemas import recognition as recognition_schemas
from schemas.fields import MAX_ID

#: The error body of every 4xx (and of the unexpected 500, which adds ``request_id``).
ERROR = {
    "type": "object",
    "required": ["code", "status", "message", "errors"],
    "properties": {
        "code": {"type": "string"},
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "request_id": {"type": "string"},
    },
}

ERRORS = {
    "400": "Invalid body, parameter or path: `errors` names each defect",
    "401": "Not signed in: no bearer token, a wrong or revoked one",
    "403": "Signed in, but the account's role does not allow this",
    "404": "No such resource, or not visible to this account (the two are not told apart)",
    "409": "Conflicts with what is stored",
    "413": "The body is larger than the server accepts",
    "429": "Too many failed sign-ins; retry after `Retry-After` seconds",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _object(required: list[str], properties: dict, *, closed: bool = True) -> dict:
    schema: dict = {"type": "object", "required": required, "properties": properties}
    if closed:
        schema["additionalProperties"] = False
    return schema


STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
INTEGER = {"type": "integer"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
IRI = {"type": "string", "format": "iri"}
ANY_OBJECT = {"type": "object"}

#: What the routes answer, written out (the views' ``*_json`` functions).
RESPONSES = {
    "Error": ERROR,
    "AuditEvent": _object(
        list(audit.EXPORT_FIELDS),
        {
            "id": ID,
            "occurred_at": DATE_TIME,
            "store_id": {**ID, "nullable": True},
            "actor_kind": STRING,
            "actor_id": STRING,
            "actor": {**STRING, "description": "who, in words"},
            "address": {**STRING, "description": "client IP, or 'command line'"},
            "action": {**STRING, "description": "dotted, e.g. credential.revoked"},
            "target_kind": STRING,
            "target_id": STRING,
            "target": STRING,
            "details": {**ANY_OBJECT, "description": "what changed; never a secret"},
            "request_id": NULLABLE_STRING,
        },
    ),
    "AuditPage": _object(
        ["events", "more"],
        {
            "events": _array(_ref("AuditEvent")),
            "more": {**NULLABLE_STRING, "description": "the next (older) page's URL, or null"},
        },
    ),
    "Token": _object(["token", "account_id"], {"token": STRING, "account_id": ID}),
    "Me": _object(
        ["account_id", "email", "person_id", "is_admin", "is_manager"],
        {
            "account_id": ID,
            "email": STRING,
            "person_id": {**ID, "nullable": True},
            "is_admin": BOOLEAN,
            "is_manager": BOOLEAN,
        },
    ),
    "PersonView": _object(
        ["id", "name", "email", "identities"],
        {
            "id": ID,
            "name": STRING,
            "email": NULLABLE_STRING,
            "identities": {**_array(ANY_OBJECT), "description": "xAPI Agents (one IFI each)"},
        },
    ),
    "CycleView": _object(
        ["id", "name", "starts_on", "ends_on"],
        {"id": ID, "name": STRING, "starts_on": DATE, "ends_on": DATE},
    ),
    "ReviewView": _object(
        [
            "id",
            "cycle_id",
            "person_id",
            "person_name",
            "status",
            "manager_comment",
            "reviewer_comment",
            "reviewer_ids",
            "rating",
        ],
        {
            "id": ID,
            "cycle_id": ID,
            "person_id": ID,
            "person_name": STRING,
            "status": {"type": "string", "enum": list(schemas.STATUSES)},
            "manager_comment": STRING,
            "reviewer_comment": STRING,
            "reviewer_ids": _array(ID),
            "rating": {
                **INTEGER,
                "minimum": 1,
                "maximum": 5,
                "nullable": True,
                "description": "the review's outcome (set by the managers), or null",
            },
        },
    ),
    "Freshness": _object(
        ["uncounted_statements", "counted_at"],
        {
            "uncounted_statements": {"type": "integer", "minimum": 0},
            "counted_at": {**DATE_TIME, "nullable": True},
        },
    ),
    "MeasuredCriterion": _object(
        ["description", "definition", "count", "required", "percent", "met", "evidence"],
        {
            "description": STRING,
            "definition": {**ANY_OBJECT, "description": "the criterion as stored"},
            "count": {"type": "integer", "minimum": 0},
            "required": {"type": "integer", "minimum": 1},
            "percent": NUMBER,
            "met": BOOLEAN,
            "evidence": {**_array(STRING), "description": "ids of the deciding statements"},
            "evidence_items": _array(ANY_OBJECT),
        },
    ),
    "MeasuredObjective": _object(
        [
            "id",
            "review_id",
            "title",
            "description",
            "due_on",
            "weight",
            "rule",
            "k",
            "percent",
            "met",
            "progress_text",
            "satisfied_at",
            "satisfied_statement_id",
            "criteria",
        ],
        {
            "id": ID,
            "review_id": ID,
            "title": STRING,
            "description": STRING,
            "due_on": {**DATE, "nullable": True},
            "weight": NUMBER,
            "rule": {"type": "string", "enum": list(schemas.RULES)},
            "k": {**INTEGER, "nullable": True},
            "percent": NUMBER,
            "met": BOOLEAN,
            "progress_text": STRING,
            "satisfied_at": {**DATE_TIME, "nullable": True},
            "satisfied_statement_id": NULLABLE_STRING,
            "criteria": _array(_ref("MeasuredCriterion")),
            "progress": _ref("Freshness"),
        },
    ),
    "TeamRow": _object(
        ["person", "review", "objectives"],
        {
            "person": _object(["id", "name"], {"id": ID, "name": STRING}),
            "review": _ref("ReviewView"),
            "objectives": _array(_ref("MeasuredObjective")),
        },
    ),
    "CreatedObjective": _object(
        ["id", "review_id", "title"], {"id": ID, "review_id": ID, "title": STRING}
    ),
    "TemplateView": _object(
        ["id", "title", "description", "rule", "k", "criteria", "criteria_in_words"],
        {
            "id": ID,
            "title": STRING,
            "description": STRING,
            "rule": {"type": "string", "enum": list(schemas.RULES)},
            "k": {**INTEGER, "nullable": True},
            "criteria": _array(ANY_OBJECT),
            "criteria_in_words": _array(STRING),
        },
    ),
    "LearnerRecord": _object(
        [
            "person",
            "period",
            "total",
            "by_source",
            "by_verb",
            "by_activity_type",
            "weeks",
            "top_activities",
            "recent",
            "objectives",
        ],
        {
            "person": _object(
                ["id", "name", "identities"],
                {"id": ID, "name": STRING, "identities": _array(ANY_OBJECT)},
            ),
            "period": _object(
                ["since", "until"],
                {"since": {**DATE, "nullable": True}, "until": {**DATE, "nullable": True}},
            ),
            "total": {"type": "integer", "minimum": 0},
            "by_source": {"type": "object", "additionalProperties": INTEGER},
            "by_verb": {"type": "object", "additionalProperties": INTEGER},
            "by_activity_type": {"type": "object", "additionalProperties": INTEGER},
            "weeks": _array(
                _object(
                    ["week_start", "by_source", "total"],
                    {
                        "week_start": DATE,
                        "by_source": {"type": "object", "additionalProperties": INTEGER},
                        "total": INTEGER,
                    },
                )
            ),
            "top_activities": _array(
                _object(
                    ["activity", "name", "count"],
                    {"activity": STRING, "name": STRING, "count": INTEGER},
                )
            ),
            "recent": _array(
                _object(
                    [
                        "statement_id",
                        "source",
                        "verb",
                        "verb_name",
                        "activity",
                        "activity_name",
                        "at",
                        "score",
                        "success",
                    ],
                    {
                        "statement_id": STRING,
                        "source": STRING,
                        "verb": STRING,
                        "verb_name": STRING,
                        "activity": NULLABLE_STRING,
                        "activity_name": NULLABLE_STRING,
                        "at": DATE_TIME,
                        "score": {**NUMBER, "nullable": True},
                        "success": {**BOOLEAN, "nullable": True},
                    },
                )
            ),
            "objectives": _array(_ref("MeasuredObjective")),
        },
    ),
    "Vocabulary": _object(
        ["sources", "verbs", "activity_types", "profiles"],
        {
            "sources": _array(_object(["id", "name"], {"id": STRING, "name": STRING})),
            "verbs": _array(
                _object(
                    ["id", "name", "sources"],
                    {"id": IRI, "name": STRING, "sources": _array(STRING)},
                )
            ),
            "activity_types": _array(
                _object(
                    ["id", "name", "sources"],
                    {"id": IRI, "name": STRING, "sources": _array(STRING)},
                )
            ),
            "profiles": {"type": "object", "additionalProperties": IRI},
        },
    ),
}

#: A review as GET /api/reviews/{id} gives it: with its objectives measured, and freshness.
RESPONSES["ReviewDetail"] = _object(
    [*RESPONSES["ReviewView"]["required"], "objectives", "progress"],
    {
        **RESPONSES["ReviewView"]["properties"],
        "objectives": _array(_ref("MeasuredObjective")),
        "progress": _ref("Freshness"),
    },
)

#: The parts the floors above add to the archive (``register_part`` in ``recognition.archive``
#: and ``feedback.archive``; this floor cannot import them, the schema fuzz test compares).
ADDED_ARCHIVE_PARTS = [
    "kudos",
    "kudos_wallet",
    "redemptions",
    "badges",
    "leaderboard_opt_in",
    "after_action_reviews",
    "aar_actions",
    "mentoring",
]
#: GET /api/people/{id}/archive (``directory.governance.archive``): a person's data (GDPR art. 20).
RESPONSES["PersonArchive"] = _object(
    ARCHIVE_PARTS := [
        "format",
        "manifest",
        "person",
        "identities",
        "statements",
        "documents",
        "accounts",
        "reviews",
        "lti_launches",
        "lti_memberships",
    ],
    {
        "format": STRING,
        "manifest": {"type": "object", "additionalProperties": INTEGER},
        "person": ANY_OBJECT,
        **{part: _array(ANY_OBJECT) for part in [*ARCHIVE_PARTS[3:], *ADDED_ARCHIVE_PARTS]},
    },
)

#: Request bodies: marshmallow schemas (``unknown = RAISE``, so ``additionalProperties: false``).
BODIES = {
    "TokenRequest": schemas.TokenRequestSchema,
    "Criterion": schemas.CriterionSchema,
    "Person": schemas.PersonSchema,
    "Manager": schemas.ManagerSchema,
    "Cycle": schemas.CycleSchema,
    "Review": schemas.ReviewSchema,
    "ReviewUpdate": schemas.ReviewUpdateSchema,
    "Objective": schemas.ObjectiveSchema,
    "ObjectiveFromTemplate": schemas.ObjectiveFromTemplateSchema,
    "Template": schemas.TemplateSchema,
}

#: A criterion counts something: at least one of these, non-empty (``CriterionSchema._target``).
CRITERION_TARGETS = {
    "verbs": {"type": "array", "minItems": 1},
    "activity_ids": {"type": "array", "minItems": 1},
    "activity_prefix": {"type": "string", "minLength": 1},
    "activity_type": {"type": "string"},
    "parent_ids": {"type": "array", "minItems": 1},
}
#: ``k`` is required with ``k_of_n`` (and at most the number of criteria: not expressible).
K_WITH_K_OF_N = [
    {"properties": {"rule": {"type": "string", "enum": ["all", "any"]}}},
    {
        "required": ["rule", "k"],
        "properties": {"rule": {"type": "string", "enum": ["k_of_n"]}, "k": ID},
    },
]
#: What the schemas enforce that marshmallow's fields do not say.
EXTRA = {
    "Criterion": {
        "anyOf": [
            {"required": [name], "properties": {name: schema}}
            for name, schema in CRITERION_TARGETS.items()
        ],
        "description": (
            "One xAPI condition. It needs a target: non-empty verbs, activity_ids or "
            "parent_ids, an activity_prefix or an activity_type. window_start must be before "
            "window_end; with count 'activities' and activity_ids, min_count is at most their "
            "number."
        ),
    },
    "Objective": {"anyOf": K_WITH_K_OF_N},
    "Template": {"anyOf": K_WITH_K_OF_N},
}
#: Fields that hold IRIs (``schemas.objectives._iri``).
IRI_FIELDS = {"Criterion": ("verbs", "activity_ids", "activity_type", "parent_ids")}


@dataclass(frozen=True)
class Route:
    """One route of ``objectives.views``: its answers, body and query parameters."""

    path: str
    method: str
    summary: str
    ok: str  # "200", "201" or "204"
    response: str | None = None  # a component name; "[Name]" for a list of them
    body: str | tuple[str, ...] | None = None  # a component name, or several (oneOf)
    errors: tuple[str, ...] = ("400", "401", "403")
    query: tuple[dict, ...] = ()
    public: bool = False


def _words(limit: int) -> dict:
    """A query text of at most ``limit`` characters, without control characters."""
    return {"type": "string", "maxLength": limit, "pattern": "^[^\\u0000-\\u001f\\u007f]*$"}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


ROUTES = [
    Route(
        "/api/tokens",
        "post",
        "Sign in with store, email and password; returns a bearer token (shown once)",
        "201",
        "Token",
        body="TokenRequest",
        errors=("400", "401", "413", "429"),
        public=True,
    ),
    Route("/api/me", "get", "The signed-in account and its roles", "200", "Me"),
    Route(
        "/api/people",
        "get",
        "People visible to the account (self, reports; admins: all)",
        "200",
        "[PersonView]",
    ),
    Route(
        "/api/people",
        "post",
        "Add a person (admins); 409 if the email is another person's identity",
        "201",
        "PersonView",
        body="Person",
        errors=("400", "401", "403", "404", "409", "413"),
    ),
    Route(
        "/api/people/{person_id}",
        "get",
        "One person with identities",
        "200",
        "PersonView",
        errors=("400", "401", "403", "404"),
    ),
    Route(
        "/api/people/{person_id}/manager",
        "put",
        "Set a person's manager, or none with null (admins)",
        "204",
        body="Manager",
        errors=("400", "401", "403", "404", "413"),
    ),
    Route(
        "/api/people/{person_id}/record",
        "get",
        "Learner record: counts, weeks, recent, objectives (JSON, or CSV with format=csv)",
        "200",
        "LearnerRecord",
        errors=("400", "401", "403", "404"),
        query=(
            _query("since", DATE, "first day counted"),
            _query("until", DATE, "last day counted"),
            _query("format", {"type": "string", "enum": ["json", "csv"]}, "json or csv"),
        ),
    ),
    Route(
        "/api/people/{person_id}/archive",
        "get",
        "Everything of one person as JSON, streamed (GDPR art. 20; admins and the person)",
        "200",
        "PersonArchive",
        errors=("400", "401", "403", "404"),
    ),
    Route("/api/cycles", "get", "Review cycles", "200", "[CycleView]"),
    Route(
        "/api/cycles",
        "post",
        "Create a review cycle (admins)",
        "201",
        "CycleView",
        body="Cycle",
        errors=("400", "401", "403", "413"),
    ),
    Route(
        "/api/cycles/{cycle_id}/team",
        "get",
        "Progress of every visible report in a cycle (freshness in headers)",
        "200",
        "[TeamRow]",
        errors=("400", "401", "403", "404"),
    ),
    Route(
        "/api/reviews",
        "get",
        "Reviews visible to the account, of one cycle with cycle_id",
        "200",
        "[ReviewView]",
        query=(_query("cycle_id", ID, "only the reviews of this cycle"),),
    ),
    Route(
        "/api/reviews",
        "post",
        "Open a review for a report (managers, admins); an existing one is returned",
        "201",
        "ReviewView",
        body="Review",
        errors=("400", "401", "403", "404", "413"),
    ),
    Route(
        "/api/reviews/{review_id}",
        "get",
        "A review with measured objectives and evidence",
        "200",
        "ReviewDetail",
        errors=("400", "401", "403", "404"),
    ),
    Route(
        "/api/reviews/{review_id}",
        "patch",
        "Status, comments, reviewers, rating (1-5 or null)",
        "200",
        "ReviewView",
        body="ReviewUpdate",
        errors=("400", "401", "403", "404", "413"),
    ),
    Route(
        "/api/reviews/{review_id}/objectives",
        "post",
        "Attach an objective, written out or from a template (managers, admins)",
        "201",
        "CreatedObjective",
        body=("Objective", "ObjectiveFromTemplate"),
        errors=("400", "401", "403", "404", "413"),
    ),
    Route(
        "/api/objectives/{objective_id}",
        "delete",
        "Remove an objective (managers, admins)",
        "204",
        errors=("400", "401", "403", "404"),
    ),
    Route(
        "/api/objectives/{objective_id}/progress",
        "get",
        "Progress and evidence of one objective",
        "200",
        "MeasuredObjective",
        errors=("400", "401", "403", "404"),
    ),
    Route(
        "/api/templates", "get", "Objective templates (managers, admins)", "200", "[TemplateView]"
    ),
    Route(
        "/api/templates",
        "post",
        "Create an objective template (managers, admins)",
        "201",
        "TemplateView",
        body="Template",
        errors=("400", "401", "403", "413"),
    ),
    Route(
        "/api/audit",
        "get",
        "The organisation's audit trail of administrative actions, newest first (admins)",
        "200",
        "AuditPage",
        query=(
            _query("action", _words(100), "an action, or a family: credential"),
            _query("actor", _words(200), "words of the actor's name"),
            _query("before", ID, "the next page: events older than this id (from `more`)"),
            _query("limit", {**ID, "maximum": 200}, "events per page, 50 by default"),
        ),
    ),
    Route(
        "/api/statements/export",
        "get",
        "Every statement GET /xapi/statements' filters match, as NDJSON or CSV, streamed (admins)",
        "200",
        query=(
            _query("format", {"type": "string", "enum": ["ndjson", "csv"]}, "ndjson (default)"),
            _query(
                "statement_format",
                {"type": "string", "enum": ["exact", "ids", "canonical"]},
                "GET /xapi/statements' format: exact (default), ids or canonical",
            ),
            _query("agent", STRING, "an Agent or Identified Group as xAPI JSON"),
            _query("verb", STRING, "a verb IRI"),
            _query("activity", STRING, "an Activity IRI"),
            _query("registration", {"type": "string", "format": "uuid"}, "a registration"),
            _query("related_activities", BOOLEAN, "activity anywhere in the statement"),
            _query("related_agents", BOOLEAN, "agent anywhere in the statement"),
            _query("since", STRING, "stored after this xAPI timestamp"),
            _query("until", STRING, "stored at or before this xAPI timestamp"),
            _query("ascending", BOOLEAN, "oldest first (default: newest first)"),
        ),
    ),
    Route(
        "/api/vocabulary",
        "get",
        "Sources, verbs and activity types with their names: what criteria are written in",
        "200",
        "Vocabulary",
        errors=("400",),
        public=True,
    ),
    Route(
        "/api/openapi.json",
        "get",
        "This document",
        "200",
        "OpenApi",
        errors=("400",),
        public=True,
    ),
]

# ---- Recognition (``recognition.views``): kudos, badges, leaderboards, rewards (issue 19) ----
_PERSON_REF = _object(["id", "name"], {"id": ID, "name": STRING})
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
RESPONSES.update(
    {
        "Gift": _object(
            ["id", "giver", "receiver", "points", "message", "reason", "link", "given_at"]
            + ["statement_id"],
            {
                "id": ID,
                "giver": _PERSON_REF,
                "receiver": _PERSON_REF,
                "points": {"type": "integer", "minimum": 1},
                "message": STRING,
                "reason": {"type": "string", "enum": list(recognition_schemas.REASONS)},
                "link": {**IRI, "nullable": True},
                "given_at": DATE_TIME,
                "statement_id": {"type": "string", "format": "uuid"},
            },
        ),
        "MyKudos": _object(
            ["allowance", "wallet", "given", "received"],
            {
                "allowance": _object(
                    ["points", "given", "left", "period_starts_on", "expires_on"],
                    {
                        "points": INTEGER,
                        "given": INTEGER,
                        "left": INTEGER,
                        "period_starts_on": DATE,
                        "expires_on": {**DATE, "description": "what is left expires then"},
                    },
                ),
                "wallet": _object(
                    ["received", "redeemed", "available"],
                    {"received": INTEGER, "redeemed": INTEGER, "available": INTEGER},
                ),
                "given": _array(_ref("Gift")),
                "received": _array(_ref("Gift")),
            },
        ),
        "Colleague": _PERSON_REF,
        "Leaderboard": _object(
            ["scope", "period", "starts_on", "ends_on", "manager_id", "contributions"]
            + ["entries", "team_totals", "you_opted_in"],
            {
                "scope": {"type": "string", "enum": ["organisation", "team"]},
                "period": {"type": "string", "enum": list(recognition_schemas.PERIODS)},
                "starts_on": DATE,
                "ends_on": DATE,
                "manager_id": {**ID, "nullable": True},
                "contributions": _array(_object(["key", "name"], {"key": STRING, "name": STRING})),
                "entries": _array(
                    _object(
                        ["rank", "person_id", "name", "score", "contributions"],
                        {
                            "rank": ID,
                            "person_id": ID,
                            "name": STRING,
                            "score": INTEGER,
                            "contributions": _COUNTS,
                        },
                    )
                ),
                "team_totals": {
                    **_COUNTS,
                    "nullable": True,
                    "description": "a team's totals, everyone counted, for its managers only",
                },
                "you_opted_in": BOOLEAN,
            },
        ),
        "OptInView": _object(["opt_in"], {"opt_in": BOOLEAN}),
        "BadgeView": _object(
            ["id", "name", "description", "rule", "k", "criteria", "criteria_in_words", "active"],
            {
                "id": ID,
                "name": STRING,
                "description": STRING,
                "rule": {"type": "string", "enum": list(schemas.RULES)},
                "k": {**INTEGER, "nullable": True},
                "criteria": _array(ANY_OBJECT),
                "criteria_in_words": _array(STRING),
                "active": BOOLEAN,
            },
        ),
        "Award": _object(
            ["id", "badge", "person_id", "awarded_at", "statement_id", "credential_jwks"],
            {
                "id": ID,
                "badge": _object(
                    ["id", "name", "description"],
                    {"id": ID, "name": STRING, "description": STRING},
                ),
                "person_id": ID,
                "awarded_at": DATE_TIME,
                "statement_id": {"type": "string", "format": "uuid"},
                "credential_jwks": {**STRING, "description": "the issuer's public keys"},
                "credential": {
                    **STRING,
                    "description": "the Open Badges 3.0 credential as a VC-JWT (RS256)",
                },
                "credential_claims": {**ANY_OBJECT, "description": "the JWT's claims; vc inside"},
            },
        ),
        "RewardView": _object(
            ["id", "name", "cost", "stock", "active"],
            {"id": ID, "name": STRING, "cost": INTEGER, "stock": INTEGER, "active": BOOLEAN},
        ),
        "RedemptionView": _object(
            ["id", "item", "person", "cost", "redeemed_at", "fulfilled_at"],
            {
                "id": ID,
                "item": _PERSON_REF,
                "person": _PERSON_REF,
                "cost": INTEGER,
                "redeemed_at": DATE_TIME,
                "fulfilled_at": {**DATE_TIME, "nullable": True},
            },
        ),
    }
)
BODIES.update(
    {
        "Kudos": recognition_schemas.KudosSchema,
        "Badge": recognition_schemas.BadgeSchema,
        "Reward": recognition_schemas.RewardSchema,
        "OptIn": recognition_schemas.OptInSchema,
    }
)
EXTRA["Badge"] = {"anyOf": K_WITH_K_OF_N}
IRI_FIELDS["Kudos"] = ("link",)
ROUTES.extend(
    [
        Route(
            "/api/kudos",
            "get",
            "My kudos: allowance left this period, points to redeem, given and received",
            "200",
            "MyKudos",
        ),
        Route(
            "/api/kudos",
            "post",
            "Give kudos to a colleague (never to oneself); 409 beyond the allowance left",
            "201",
            "Gift",
            body="Kudos",
            errors=("400", "401", "403", "404", "409", "413"),
        ),
        Route(
            "/api/colleagues",
            "get",
            "Colleagues whose name or email contains q",
            "200",
            "[Colleague]",
            query=(_query("q", _words(200), "words of the name or email"),),
        ),
        Route(
            "/api/leaderboard",
            "get",
            "Contributions to others' learning of people who opted in; team totals for managers",
            "200",
            "Leaderboard",
            errors=("400", "401", "403", "404"),
            query=(
                _query("scope", {"type": "string", "enum": ["organisation", "team"]}, "where"),
                _query(
                    "period", {"type": "string", "enum": list(recognition_schemas.PERIODS)}, "span"
                ),
                _query("date", DATE, "a day of the period (default: today)"),
                _query("manager_id", ID, "the team of this manager (default: your team)"),
            ),
        ),
        Route(
            "/api/leaderboard/opt-in",
            "put",
            "Appear on leaderboards or not (your own choice; default no)",
            "200",
            "OptInView",
            body="OptIn",
            errors=("400", "401", "403", "413"),
        ),
        Route("/api/badges", "get", "The organisation's badges", "200", "[BadgeView]"),
        Route(
            "/api/badges",
            "post",
            "Define a badge by criteria (admins); the worker awards it",
            "201",
            "BadgeView",
            body="Badge",
            errors=("400", "401", "403", "409", "413"),
        ),
        Route(
            "/api/people/{person_id}/badges",
            "get",
            "The badges a person earned",
            "200",
            "[Award]",
            errors=("400", "401", "403", "404"),
        ),
        Route(
            "/api/badge-awards/{award_id}",
            "get",
            "One award with its signed Open Badges 3.0 credential",
            "200",
            "Award",
            errors=("400", "401", "403", "404"),
        ),
        Route("/api/rewards", "get", "The reward catalogue", "200", "[RewardView]"),
        Route(
            "/api/rewards",
            "post",
            "Add an item to the catalogue (admins)",
            "201",
            "RewardView",
            body="Reward",
            errors=("400", "401", "403", "409", "413"),
        ),
        Route(
            "/api/rewards/{item_id}/redemptions",
            "post",
            "Redeem received points for one item; 409 when points or stock fall short",
            "201",
            "RedemptionView",
            errors=("400", "401", "403", "404", "409"),
        ),
        Route(
            "/api/redemptions",
            "get",
            "Redemptions: all for admins (to fulfil first), one's own for others",
            "200",
            "[RedemptionView]",
        ),
        Route(
            "/api/redemptions/{redemption_id}/fulfilment",
            "post",
            "Mark a redemption handed over (admins); 409 if it already was",
            "200",
            "RedemptionView",
            errors=("400", "401", "403", "404", "409"),
        ),
    ]
)

# ---- Feedback (``feedback.views``): health checks, after-action reviews, mentoring (issue 20) --
_WHO = _object(["id", "name"], {"id": ID, "name": STRING})
_QUESTION = _object(["key", "label"], {"key": STRING, "label": STRING})
_NULLABLE_ID = {**ID, "nullable": True}
_WITHHELD = {**NULLABLE_STRING, "description": "why a figure is withheld (fewer than k people)"}
_CORRELATION = _object(
    ["r", "n", "withheld"],
    {"r": {**NUMBER, "nullable": True}, "n": INTEGER, "withheld": _WITHHELD},
)
_CHECK_FIELDS = {
    "id": ID,
    "kind": {"type": "string", "enum": list(feedback_schemas.KINDS)},
    "title": STRING,
    "lead_id": ID,
    "questions": _array(_QUESTION),
    "opens_on": DATE,
    "closes_on": DATE,
    "open": BOOLEAN,
    "closed": BOOLEAN,
    "cycle_id": _NULLABLE_ID,
    "template_id": _NULLABLE_ID,
}
RESPONSES.update(
    {
        "FeedbackSettingsView": _object(["k"], {"k": INTEGER}),
        "HealthCheckView": _object(
            [*_CHECK_FIELDS, "members", "answered", "you_answered"],
            {
                **_CHECK_FIELDS,
                "members": INTEGER,
                "answered": {**INTEGER, "description": "how many answered; never who or what"},
                "you_answered": {**BOOLEAN, "nullable": True, "description": "null: not a member"},
            },
        ),
        "ParticipationToken": _object(
            ["token"], {"token": {**STRING, "description": "one-time: spent by the answer"}}
        ),
        "AnswerRecorded": _object(["recorded"], {"recorded": BOOLEAN}),
        "HealthCheckResults": _object(
            ["check", "members", "answered", "k", "shown", "reason", "questions", "trends"],
            {
                "check": _object(list(_CHECK_FIELDS), _CHECK_FIELDS),
                "members": INTEGER,
                "answered": INTEGER,
                "k": INTEGER,
                "shown": BOOLEAN,
                "reason": NULLABLE_STRING,
                "questions": _array(
                    {**ANY_OBJECT, "description": "per question: answers, mean, tallies"}
                ),
                "trends": _array(ANY_OBJECT),
            },
        ),
        "AfterActionReviewView": _object(
            ["id", "title", "occurred_on", "author", "expected", "happened", "went_well"]
            + ["went_badly", "to_fix", "participants", "links", "actions", "lessons", "cites"]
            + ["published_at"],
            {
                "id": ID,
                "title": STRING,
                "occurred_on": DATE,
                "author": _WHO,
                "expected": STRING,
                "happened": STRING,
                "went_well": STRING,
                "went_badly": STRING,
                "to_fix": STRING,
                "participants": _array(_WHO),
                "links": _array(_object(["url", "label"], {"url": IRI, "label": STRING})),
                "actions": _array(
                    _object(
                        ["id", "text", "owner", "due_on", "objective_id"],
                        {
                            "id": ID,
                            "text": STRING,
                            "owner": _WHO,
                            "due_on": {**DATE, "nullable": True},
                            "objective_id": _NULLABLE_ID,
                        },
                    )
                ),
                "lessons": _array(
                    _object(
                        ["id", "text", "reused_in"],
                        {"id": ID, "text": STRING, "reused_in": _array(ANY_OBJECT)},
                    )
                ),
                "cites": _array(ANY_OBJECT),
                "published_at": DATE_TIME,
            },
        ),
        "ActionObjectiveView": _object(
            ["id", "review_id", "title"], {"id": ID, "review_id": ID, "title": STRING}
        ),
        "MentoringSessionView": _object(
            ["id", "pair_id", "held_on", "minutes", "topic", "logged_by", "confirmed"],
            {
                "id": ID,
                "pair_id": ID,
                "held_on": DATE,
                "minutes": INTEGER,
                "topic": STRING,
                "logged_by": ID,
                "confirmed": BOOLEAN,
            },
        ),
        "MentoringPairView": _object(
            ["id", "mentor", "mentee", "sessions"],
            {
                "id": ID,
                "mentor": _WHO,
                "mentee": _WHO,
                "sessions": _array(_ref("MentoringSessionView")),
            },
        ),
        "RatingView": _object(
            ["review_id", "rating"], {"review_id": ID, "rating": {**INTEGER, "nullable": True}}
        ),
        "Insight": _object(
            ["cycle", "k", "people", "shown", "reason", "met_vs_rating", "learning_by_source"]
            + ["days_to_met", "templates"],
            {
                "cycle": _object(["id", "name"], {"id": ID, "name": STRING}),
                "k": INTEGER,
                "people": INTEGER,
                "shown": BOOLEAN,
                "reason": NULLABLE_STRING,
                "met_vs_rating": {
                    **ANY_OBJECT,
                    "nullable": True,
                    "description": "by_rating groups and a correlation (r, n)",
                },
                "learning_by_source": {
                    "type": "array",
                    "nullable": True,
                    "items": _object(
                        ["source", "name", "mean_events", "correlation"],
                        {
                            "source": STRING,
                            "name": STRING,
                            "mean_events": {**NUMBER, "nullable": True},
                            "correlation": _CORRELATION,
                        },
                    ),
                },
                "days_to_met": {**ANY_OBJECT, "nullable": True},
                "templates": {"type": "array", "nullable": True, "items": ANY_OBJECT},
            },
        ),
    }
)
BODIES.update(
    {
        "FeedbackSettings": feedback_schemas.FeedbackSettingsSchema,
        "HealthCheck": feedback_schemas.HealthCheckSchema,
        "HealthCheckAnswer": feedback_schemas.AnswerSchema,
        "AfterActionReview": feedback_schemas.AfterActionReviewSchema,
        "ActionObjective": feedback_schemas.ActionObjectiveSchema,
        "MentoringPair": feedback_schemas.PairSchema,
        "MentoringSession": feedback_schemas.MentoringSessionSchema,
        "Rating": feedback_schemas.RatingSchema,
    }
)
_WITH_BODY = ("400", "401", "403", "404", "409", "413")
_FORMAT = _query("format", {"type": "string", "enum": ["json", "csv"]}, "json or csv")
ROUTES.extend(
    [
        Route(
            "/api/feedback/settings",
            "get",
            "The anonymity threshold k",
            "200",
            "FeedbackSettingsView",
        ),
        Route(
            "/api/feedback/settings",
            "put",
            "Set k, 3 or more (admins)",
            "200",
            "FeedbackSettingsView",
            body="FeedbackSettings",
            errors=("400", "401", "403", "413"),
        ),
        Route(
            "/api/health-checks",
            "get",
            "Health checks I lead or may answer",
            "200",
            "[HealthCheckView]",
        ),
        Route(
            "/api/health-checks",
            "post",
            "Open a squad health check or a pulse for a team; 400 for a team smaller than k",
            "201",
            "HealthCheckView",
            body="HealthCheck",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/health-checks/{check_id}",
            "get",
            "One health check, counts only",
            "200",
            "HealthCheckView",
            errors=("400", "401", "403", "404"),
        ),
        Route(
            "/api/health-checks/{check_id}/token",
            "post",
            "A one-time participation token; 409 once answered or when not open",
            "201",
            "ParticipationToken",
            errors=("400", "401", "403", "404", "409"),
        ),
        Route(
            "/api/health-checks/{check_id}/answers",
            "post",
            "Answer anonymously with a token; 409 for a spent one (one answer each)",
            "201",
            "AnswerRecorded",
            body="HealthCheckAnswer",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/health-checks/{check_id}/close",
            "post",
            "Close a check early",
            "200",
            "HealthCheckView",
            errors=("400", "401", "403", "404"),
        ),
        Route(
            "/api/health-checks/{check_id}/results",
            "get",
            "Aggregates once closed with k or more answers, else the reason only (or CSV)",
            "200",
            "HealthCheckResults",
            errors=("400", "401", "403", "404"),
            query=(_FORMAT,),
        ),
        Route(
            "/api/after-action-reviews",
            "get",
            "Search the store's after-action reviews (everyone may read them)",
            "200",
            "[AfterActionReviewView]",
            query=(_query("q", _words(200), "words of the title, texts or lessons"),),
        ),
        Route(
            "/api/after-action-reviews",
            "post",
            "Publish a blameless after-action review (statements through the write path)",
            "201",
            "AfterActionReviewView",
            body="AfterActionReview",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/after-action-reviews/{aar_id}",
            "get",
            "One after-action review, with where its lessons were reused",
            "200",
            "AfterActionReviewView",
            errors=("400", "401", "403", "404"),
        ),
        Route(
            "/api/after-action-reviews/{aar_id}/actions/{action_id}/objective",
            "post",
            "Make an action a learning objective on its owner's review, in one step",
            "201",
            "ActionObjectiveView",
            body="ActionObjective",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/mentoring/pairs",
            "get",
            "My mentoring pairs (all for admins)",
            "200",
            "[MentoringPairView]",
        ),
        Route(
            "/api/mentoring/pairs",
            "post",
            "Pair a mentor and a mentee",
            "201",
            "MentoringPairView",
            body="MentoringPair",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/mentoring/pairs/{pair_id}/sessions",
            "post",
            "Log a session; it counts once the other side confirms it",
            "201",
            "MentoringSessionView",
            body="MentoringSession",
            errors=_WITH_BODY,
        ),
        Route(
            "/api/mentoring/sessions/{session_id}/confirmation",
            "post",
            "Confirm a session the other side logged; its statements are written",
            "200",
            "MentoringSessionView",
            errors=("400", "401", "403", "404", "409"),
        ),
        Route(
            "/api/reviews/{review_id}/rating",
            "put",
            "Rate a review's outcome, 1-5",
            "200",
            "RatingView",
            body="Rating",
            errors=("400", "401", "403", "404", "413"),
        ),
        Route(
            "/api/cycles/{cycle_id}/insight",
            "get",
            "Objectives met and learning against review outcomes; nothing below k people",
            "200",
            "Insight",
            errors=("400", "401", "403", "404"),
            query=(_FORMAT,),
        ),
    ]
)
#: Routes that answer CSV too (``format=csv``).
CSV_TOO = {
    "/api/people/{person_id}/record",
    "/api/health-checks/{check_id}/results",
    "/api/cycles/{cycle_id}/insight",
}

#: Headers of list answers that carry how fresh progress is (``views._with_freshness``).
FRESHNESS_HEADERS = {
    "Learnloop-Uncounted-Statements": {
        "description": "statements stored but not counted into progress yet",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    },
    "Learnloop-Progress-Counted-At": {
        "description": "when the worker last counted (absent before it ever has)",
        "schema": DATE_TIME,
    },
}


def _content(name: str) -> dict:
    if name == "OpenApi":
        return {"application/json": {"schema": ANY_OBJECT}}
    schema = _array(_ref(name[1:-1])) if name.startswith("[") else _ref(name)
    return {"application/json": {"schema": schema}}


def _operation(route: Route) -> dict:
    responses: dict = {}
    ok: dict = {"description": {"201": "Created", "204": "No content"}.get(route.ok, "OK")}
    if route.response:
        ok["content"] = _content(route.response)
    if route.path in CSV_TOO:
        ok["content"]["text/csv"] = {"schema": STRING}
    if route.path == "/api/statements/export":
        ok["content"] = {"application/x-ndjson": {"schema": STRING}, "text/csv": {"schema": STRING}}
        ok["headers"] = {"Content-Disposition": {"required": True, "schema": STRING}}
    if route.path == "/api/cycles/{cycle_id}/team":
        ok["headers"] = FRESHNESS_HEADERS
    responses[route.ok] = ok
    for status in route.errors:
        error: dict = {"description": ERRORS[status], "content": _content("Error")}
        if status == "401" and not route.public:
            error["headers"] = {
                "WWW-Authenticate": {"required": True, "schema": STRING},
            }
        if status == "429":
            error["headers"] = {
                "Retry-After": {
                    "description": "seconds until a sign-in may be tried again",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
        responses[status] = error
    operation: dict = {"summary": route.summary, "responses": responses}
    operation["security"] = [] if route.public else [{"bearer": []}, {"launch": []}]
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": ID,
            "description": "a row id",
        }
        for name in (p.strip("{}") for p in route.path.split("/") if p.startswith("{"))
    ]
    parameters.extend(route.query)
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        names = (route.body,) if isinstance(route.body, str) else route.body
        schema = _ref(names[0]) if len(names) == 1 else {"oneOf": [_ref(n) for n in names]}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    return operation


def document(base_url: str) -> dict:
    """The OpenAPI 3.0 document of /api, served at /api/openapi.json."""
    spec = APISpec(
        title="Learnloop objectives API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        servers=[{"url": base_url}],
        components={
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from POST /api/tokens (the pages' session also works)",
                },
                "launch": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "lt",
                    "description": "the launch token of a page opened from an LMS (LTI)",
                },
            },
        },
    )
    for name, schema in BODIES.items():
        spec.components.schema(name, component=EXTRA.get(name), schema=schema)
    for name, schema in RESPONSES.items():
        spec.components.schema(name, schema)
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    out = spec.to_dict()
    for name, fields in IRI_FIELDS.items():
        properties = out["components"]["schemas"][name]["properties"]
        for field in fields:
            target = properties[field].get("items", properties[field])
            target["format"] = "iri"
    return out
