"""The OpenAPI 3 document of the xAPI resources, served at /xapi/openapi.json (public).

The Statement Resource, the three Document Resources, Agents, Activities and About, as
Learnloop serves them (xAPI 1.0.3 Communication 2; IEEE 9274.1.1 §4.1): the version header,
HTTP Basic, every parameter, and every status code the routes answer. The statement schema is
the shape of xAPI Data 2.4 in JSON Schema: unknown properties and nulls are refused, as the
LRS refuses them. It is a little looser than the LRS where JSON Schema cannot follow the
specification (language tags, timestamps, durations, mailto addresses, which version allows
what): the LRS checks those and answers 400 naming the path of each defect. The fuzzing tests
(tests/fuzz) hold the LRS to this document.
"""

from __future__ import annotations

from lrs.auth import SCOPES
from lrs.core.documents import MAX_ID_BYTES
from lrs.core.query import MAX_LIMIT

VERSION_HEADER = "X-Experience-API-Version"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: tuple[str, ...] = (), **extra) -> dict:
    schema: dict = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def _array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def _one_of_kind(kind: str) -> dict:
    return {"type": "string", "enum": [kind]}


STRING = {"type": "string", "minLength": 1}
ANY_STRING = {"type": "string"}
IRI = {"type": "string", "format": "iri", "minLength": 1}
UUID = {"type": "string", "format": "uuid"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
TIMESTAMP = {
    "type": "string",
    "minLength": 1,
    "description": "an ISO 8601 timestamp (xAPI Data 4.5); the LRS checks the form",
}
LANGUAGE_MAP = {
    "type": "object",
    "additionalProperties": ANY_STRING,
    "description": "RFC 5646 language tags to strings (xAPI Data 4.2)",
}
EXTENSIONS = {
    "type": "object",
    "additionalProperties": {"nullable": True},
    "description": "IRIs to any JSON value (xAPI Data 4.1)",
}
IFI = {
    "mbox": {"type": "string", "pattern": "^mailto:"},
    "mbox_sha1sum": {"type": "string", "pattern": "^[0-9a-fA-F]{40}$"},
    "openid": IRI,
    "account": _ref("Account"),
}
ONE_IFI = [{"required": [name]} for name in IFI]

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["code", "status", "message", "errors"],
        "properties": {
            "code": ANY_STRING,
            "status": {"type": "integer"},
            "message": ANY_STRING,
            "errors": _array(
                {
                    "type": "object",
                    "required": ["path", "message"],
                    "properties": {"path": ANY_STRING, "message": ANY_STRING},
                }
            ),
            "request_id": ANY_STRING,
        },
    },
    "Account": _object({"homePage": IRI, "name": ANY_STRING}, ("homePage", "name")),
    "Agent": _object(
        {"objectType": _one_of_kind("Agent"), "name": ANY_STRING, **IFI},
        oneOf=ONE_IFI,
        description="exactly one of mbox, mbox_sha1sum, openid, account (Data 2.4.2.1)",
    ),
    "Group": _object(
        {
            "objectType": _one_of_kind("Group"),
            "name": ANY_STRING,
            "member": _array(_ref("Agent")),
            **IFI,
        },
        ("objectType",),
        anyOf=[
            {"oneOf": ONE_IFI},
            {
                "required": ["member"],
                "properties": {"member": {"type": "array", "minItems": 1}},
                "not": {"anyOf": ONE_IFI},
            },
        ],
        description=(
            "identified (exactly one of mbox, mbox_sha1sum, openid, account) or anonymous "
            "(at least one member, no identifier) (Data 2.4.2.2)"
        ),
    ),
    "Actor": {"oneOf": [_ref("Agent"), _ref("Group")]},
    "Verb": _object({"id": IRI, "display": LANGUAGE_MAP}, ("id",)),
    "InteractionComponent": _object({"id": ANY_STRING, "description": LANGUAGE_MAP}, ("id",)),
    "ActivityDefinition": _object(
        {
            "name": LANGUAGE_MAP,
            "description": LANGUAGE_MAP,
            "type": IRI,
            "moreInfo": IRI,
            "extensions": EXTENSIONS,
            "interactionType": {
                "type": "string",
                "enum": [
                    "true-false",
                    "choice",
                    "fill-in",
                    "long-fill-in",
                    "matching",
                    "performance",
                    "sequencing",
                    "likert",
                    "numeric",
                    "other",
                ],
            },
            "correctResponsesPattern": _array(ANY_STRING),
            **{
                name: _array(_ref("InteractionComponent"))
                for name in ("choices", "scale", "source", "target", "steps")
            },
        }
    ),
    "Activity": _object(
        {
            "objectType": _one_of_kind("Activity"),
            "id": IRI,
            "definition": _ref("ActivityDefinition"),
        },
        ("id",),
    ),
    "StatementRef": _object(
        {"objectType": _one_of_kind("StatementRef"), "id": UUID}, ("objectType", "id")
    ),
    "Score": _object(
        {
            "scaled": {"type": "number", "minimum": -1, "maximum": 1},
            "raw": NUMBER,
            "min": NUMBER,
            "max": NUMBER,
        }
    ),
    "Result": _object(
        {
            "score": _ref("Score"),
            "success": BOOLEAN,
            "completion": BOOLEAN,
            "response": ANY_STRING,
            "duration": {**STRING, "description": "an ISO 8601 duration"},
            "extensions": EXTENSIONS,
        }
    ),
    "ContextActivities": _object(
        {
            name: {"oneOf": [_ref("Activity"), _array(_ref("Activity"))]}
            for name in ("parent", "grouping", "category", "other")
        }
    ),
    "ContextAgent": _object(
        {
            "objectType": _one_of_kind("contextAgent"),
            "agent": _ref("Agent"),
            "relevantTypes": _array(IRI, minItems=1),
        },
        ("objectType", "agent"),
        description="xAPI 2.0 only",
    ),
    "ContextGroup": _object(
        {
            "objectType": _one_of_kind("contextGroup"),
            "group": _ref("Group"),
            "relevantTypes": _array(IRI, minItems=1),
        },
        ("objectType", "group"),
        description="xAPI 2.0 only",
    ),
    "Context": _object(
        {
            "registration": UUID,
            "instructor": _ref("Actor"),
            "team": _ref("Group"),
            "contextActivities": _ref("ContextActivities"),
            "contextAgents": _array(_ref("ContextAgent")),
            "contextGroups": _array(_ref("ContextGroup")),
            "revision": ANY_STRING,
            "platform": ANY_STRING,
            "language": STRING,
            "statement": _ref("StatementRef"),
            "extensions": EXTENSIONS,
        },
        description="contextAgents and contextGroups are xAPI 2.0 only",
    ),
    "Attachment": _object(
        {
            "usageType": IRI,
            "display": LANGUAGE_MAP,
            "description": LANGUAGE_MAP,
            "contentType": STRING,
            "length": {"type": "integer", "minimum": 0},
            "sha2": {"type": "string", "pattern": "^[0-9a-fA-F]+$"},
            "fileUrl": IRI,
        },
        ("usageType", "display", "contentType", "length", "sha2"),
    ),
    "SubStatement": _object(
        {
            "objectType": _one_of_kind("SubStatement"),
            "actor": _ref("Actor"),
            "verb": _ref("Verb"),
            "object": {
                "oneOf": [
                    _ref("Activity"),
                    _ref("AgentObject"),
                    _ref("Group"),
                    _ref("StatementRef"),
                ]
            },
            "result": _ref("Result"),
            "context": _ref("Context"),
            "timestamp": TIMESTAMP,
            "attachments": _array(_ref("Attachment")),
        },
        ("objectType", "actor", "verb", "object"),
    ),
    "Statement": _object(
        {
            "id": UUID,
            "actor": _ref("Actor"),
            "verb": _ref("Verb"),
            "object": {
                "oneOf": [
                    _ref("Activity"),
                    _ref("AgentObject"),
                    _ref("Group"),
                    _ref("StatementRef"),
                    _ref("SubStatement"),
                ]
            },
            "result": _ref("Result"),
            "context": _ref("Context"),
            "timestamp": TIMESTAMP,
            "stored": TIMESTAMP,
            "authority": _ref("Actor"),
            "version": {"type": "string", "pattern": r"^[12]\.0(\.[0-9]+)?$"},
            "attachments": _array(_ref("Attachment")),
        },
        ("actor", "verb", "object"),
        description=(
            "An xAPI Statement (Data 2.4). The LRS also holds the rules across properties: a "
            "voiding verb needs a StatementRef, revision and platform need an Activity object, "
            "score raw within min and max, interaction components by interactionType."
        ),
    ),
    "StatementResult": _object(
        {"statements": _array(_ref("Statement")), "more": ANY_STRING}, ("statements", "more")
    ),
    "StatementIds": _array(UUID),
    "Person": _object(
        {
            "objectType": _one_of_kind("Person"),
            "name": _array(ANY_STRING),
            "mbox": _array(IFI["mbox"]),
            "mbox_sha1sum": _array(IFI["mbox_sha1sum"]),
            "openid": _array(IRI),
            "account": _array(_ref("Account")),
        },
        ("objectType",),
    ),
    "About": {
        "type": "object",
        "required": ["version"],
        "properties": {"version": _array(ANY_STRING, minItems=1), "extensions": EXTENSIONS},
    },
    "DocumentIds": _array(ANY_STRING),
}
#: An Agent as a statement's object names its objectType (Data 2.4.4, XAPI-00065).
SCHEMAS["AgentObject"] = {**SCHEMAS["Agent"], "required": ["objectType"]}

ERROR_TEXT = {
    "400": "Malformed: no or unsupported version header, bad parameters, invalid body",
    "401": "No credentials, an unknown key or a wrong secret",
    "403": "The credential's scopes do not allow this",
    "404": "No such statement, document or activity",
    "409": "Conflicts with what is stored (a statement id with other content; a document)",
    "412": "An If-Match or If-None-Match precondition failed",
    "413": "The body is larger than the server accepts",
    "429": "Too many failed credential checks; retry after Retry-After seconds",
}


def _query(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _json_query(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "content": {"application/json": {"schema": schema}},
        "description": description,
    }


VERSION = {
    "name": VERSION_HEADER,
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["1.0.3", "2.0.0"]},
    "description": "1.0.x is served by the xAPI 1.0.3 rules, 2.0.x by 2.0.0 (Communication 3.3)",
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": ANY_STRING,
    "description": "the ETag the document must have",
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": ANY_STRING,
    "description": "* to write only a new document; ETags for a 304 on GET",
}
AGENT = _json_query("agent", _ref("Actor"), "an Agent (or identified Group) as JSON", required=True)
ACTIVITY_ID = _query("activityId", IRI, "the Activity's IRI", required=True)
REGISTRATION = _query("registration", UUID, "the registration (a UUID)")
SINCE = _query("since", TIMESTAMP, "only ids of documents changed after this timestamp")
DOCUMENT_ID = {"type": "string", "minLength": 1, "description": f"at most {MAX_ID_BYTES} bytes"}

RESPONSE_HEADERS = {
    VERSION_HEADER: {
        "required": True,
        "schema": ANY_STRING,
        "description": "the version that served the request",
    }
}
STATEMENT_HEADERS = {
    **RESPONSE_HEADERS,
    "X-Experience-API-Consistent-Through": {"required": True, "schema": ANY_STRING},
}


def _error(status: str, headers: dict) -> dict:
    out = {
        "description": ERROR_TEXT[status],
        "content": {"application/json": {"schema": _ref("Error")}},
        "headers": dict(headers),
    }
    if status == "401":
        out["headers"]["WWW-Authenticate"] = {"required": True, "schema": ANY_STRING}
    if status == "429":
        out["headers"]["Retry-After"] = {
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    return out


def _operation(
    summary: str,
    parameters: list[dict],
    responses: dict,
    errors: tuple[str, ...],
    *,
    body: dict | None = None,
    statements: bool = False,
    public: bool = False,
) -> dict:
    headers = STATEMENT_HEADERS if statements else RESPONSE_HEADERS
    answers = {}
    for status, answer in responses.items():
        answers[status] = {**answer, "headers": {**headers, **answer.get("headers", {})}}
    for status in errors:
        answers[status] = _error(status, headers)
    operation: dict = {
        "summary": summary,
        "parameters": parameters if public else [VERSION, *parameters],
        "responses": answers,
        "security": [] if public else [{"basic": []}, {"oauth2": []}],
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


NO_CONTENT = {"204": {"description": "Done"}}
ALWAYS = ("400", "401", "403", "429")
STATEMENT_BODY = {
    "required": True,
    "description": (
        "application/json; statements with attachments travel as multipart/mixed "
        "(Communication 1.5.2), which this document does not describe"
    ),
}


def _document_paths(resource: str, id_param: str, scope: list[dict], multi_delete: bool) -> dict:
    """GET/PUT/POST/DELETE of one Document Resource (Communication 2.3, 2.6, 2.7)."""
    single = _query(id_param, DOCUMENT_ID, "the document's id", required=True)
    optional = _query(id_param, DOCUMENT_ID, "the document's id; without it, the id list")
    document = {
        "description": "the document as stored (any media type), or the id list without an id",
        "content": {"*/*": {"schema": {}}},
        "headers": {
            "ETag": {"required": True, "schema": ANY_STRING},
            "Last-Modified": {"schema": ANY_STRING},
        },
    }
    content = {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": (
            "any bytes under any media type; under 1.0.3 an application/json document must be "
            "valid JSON (Communication 3.2), 2.0.0 stores it as sent"
        ),
    }
    merge = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "a JSON object, merged into a stored JSON object (Communication 2.2)",
    }
    delete_parameters = [*scope, optional if multi_delete else single, IF_MATCH, IF_NONE_MATCH]
    return {
        "get": _operation(
            f"One {resource} document, or the ids of the documents in its scope",
            [*scope, optional, SINCE, IF_MATCH, IF_NONE_MATCH],
            {"200": document, "304": {"description": "Not modified (If-None-Match)"}},
            (*ALWAYS, "404", "412"),
        ),
        "put": _operation(
            f"Store a {resource} document (replaces it)",
            [*scope, single, IF_MATCH, IF_NONE_MATCH],
            NO_CONTENT,
            (*ALWAYS, "409", "412", "413"),
            body=content,
        ),
        "post": _operation(
            f"Create a {resource} document or merge JSON into it",
            [*scope, single, IF_MATCH, IF_NONE_MATCH],
            NO_CONTENT,
            (*ALWAYS, "409", "412", "413"),
            body=merge,
        ),
        "delete": _operation(
            f"Delete a {resource} document"
            + (" (without stateId: every document of the scope)" if multi_delete else ""),
            delete_parameters,
            NO_CONTENT,
            (*ALWAYS, "412"),
        ),
    }


OAUTH_SCHEMAS = {
    "TokenRequest": {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["client_credentials"]},
            "scope": {
                "type": "string",
                "description": "space-separated xAPI scopes, each held by the credential "
                "(default: all the credential's)",
            },
            "client_id": {"type": "string", "description": "client_secret_post: the key"},
            "client_secret": {"type": "string", "description": "client_secret_post: the secret"},
        },
    },
    "Token": _object(
        {
            "access_token": STRING,
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer", "minimum": 1},
            "scope": ANY_STRING,
        },
        ("access_token", "token_type", "expires_in", "scope"),
    ),
    "RevocationRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": {"type": "string"},
            "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
            "client_id": {"type": "string"},
            "client_secret": {"type": "string"},
        },
    },
    "OAuthError": {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {
            "error": {
                "type": "string",
                "enum": [
                    "invalid_request",
                    "invalid_client",
                    "invalid_grant",
                    "invalid_scope",
                    "unauthorized_client",
                    "unsupported_grant_type",
                    "unsupported_token_type",
                ],
            },
            "error_description": ANY_STRING,
        },
        "description": "RFC 6749 §5.2",
    },
}
NO_STORE_HEADERS = {
    "Cache-Control": {"required": True, "schema": {"type": "string", "enum": ["no-store"]}},
}


def _oauth_answer(status: str, description: str, schema: str) -> dict:
    answer = _json(_ref(schema), description)
    answer["headers"] = {}
    if status in ("200", "400", "401") and schema != "Error":
        answer["headers"] = dict(NO_STORE_HEADERS)
    if status == "401":
        answer["headers"]["WWW-Authenticate"] = {"required": True, "schema": ANY_STRING}
    if status == "429":
        answer["headers"]["Retry-After"] = {
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    return answer


def _oauth_operation(summary: str, body: str, ok: dict) -> dict:
    """POST /oauth/token or /oauth/revoke: a form body, client authentication, RFC 6749 errors."""
    return {
        "summary": summary,
        "parameters": [],
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _ref(body)}},
        },
        "responses": {
            "200": ok,
            "400": _oauth_answer("400", "A malformed request (RFC 6749 §5.2)", "OAuthError"),
            "401": _oauth_answer(
                "401", "invalid_client: no, unknown or wrong key/secret", "OAuthError"
            ),
            "429": _oauth_answer("429", ERROR_TEXT["429"], "Error"),
        },
        # client_secret_basic (HTTP Basic with the key and secret), or client_secret_post
        "security": [{"basic": []}, {}],
    }


def _oauth_paths() -> dict:
    """The token endpoint (RFC 6749 §4.4) and the revocation endpoint (RFC 7009)."""
    return {
        "/oauth/token": {
            "post": _oauth_operation(
                "A bearer token for /xapi with some or all of the credential's scopes",
                "TokenRequest",
                _oauth_answer("200", "The token (shown once; only its hash is kept)", "Token"),
            )
        },
        "/oauth/revoke": {
            "post": _oauth_operation(
                "Revoke a token of this client (an unknown token is not an error)",
                "RevocationRequest",
                _json({"type": "object"}, "Revoked, or never known"),
            )
        },
    }


def document(base_url: str) -> dict:
    """The OpenAPI 3.0 document of /xapi, served at /xapi/openapi.json."""
    statement_query = [
        _query("statementId", UUID, "one statement"),
        _query("voidedStatementId", UUID, "one voided statement"),
        _json_query("agent", _ref("Actor"), "an Agent or identified Group as JSON"),
        _query("verb", IRI, "a verb's IRI"),
        _query("activity", IRI, "an Activity's IRI"),
        REGISTRATION,
        _query("related_activities", BOOLEAN, "match activity anywhere in the statement"),
        _query("related_agents", BOOLEAN, "match agent anywhere in the statement"),
        _query("since", TIMESTAMP, "stored after this"),
        _query("until", TIMESTAMP, "stored at or before this"),
        _query(
            "limit",
            {"type": "integer", "minimum": 0},
            f"statements per page; 0 or more than {MAX_LIMIT} means {MAX_LIMIT}",
        ),
        _query("format", {"type": "string", "enum": ["exact", "ids", "canonical"]}, "format"),
        _query("attachments", BOOLEAN, "true: multipart/mixed with the attachments"),
        _query("ascending", BOOLEAN, "oldest first"),
        _query("more", STRING, "the next page's cursor (alone)"),
    ]
    statements_json = {
        "description": "A StatementResult, or one Statement by statementId/voidedStatementId",
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("StatementResult"), _ref("Statement")]}},
            "multipart/mixed": {"schema": ANY_STRING},
        },
        "headers": {"Last-Modified": {"schema": ANY_STRING}},
    }
    agent_scope = [AGENT]
    paths = {
        "/xapi/about": {
            "get": _operation(
                "The versions this LRS serves (no credentials, any version header)",
                [],
                {"200": _json(_ref("About"))},
                ("400",),
                public=True,
            )
        },
        "/xapi/statements": {
            "put": _operation(
                "Store one statement under statementId",
                [_query("statementId", UUID, "the statement's id", required=True)],
                NO_CONTENT,
                (*ALWAYS, "409", "413"),
                body={
                    **STATEMENT_BODY,
                    "content": {"application/json": {"schema": _ref("Statement")}},
                },
                statements=True,
            ),
            "post": _operation(
                "Store one statement or a batch; answers their ids in order",
                [],
                {"200": _json(_ref("StatementIds"), "The ids, in the order sent")},
                (*ALWAYS, "409", "413"),
                body={
                    **STATEMENT_BODY,
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [_ref("Statement"), _array(_ref("Statement"))]}
                        }
                    },
                },
                statements=True,
            ),
            "get": _operation(
                "One statement, or a page of statements matching the filters",
                statement_query,
                {"200": statements_json},
                (*ALWAYS, "404"),
                statements=True,
            ),
        },
        "/xapi/activities/state": _document_paths(
            "State", "stateId", [ACTIVITY_ID, AGENT, REGISTRATION], multi_delete=True
        ),
        "/xapi/activities/profile": _document_paths(
            "Activity Profile", "profileId", [ACTIVITY_ID], multi_delete=False
        ),
        "/xapi/agents/profile": _document_paths(
            "Agent Profile", "profileId", agent_scope, multi_delete=False
        ),
        "/xapi/agents": {
            "get": _operation(
                "The Person object of an Agent: every identity and name known for them",
                [_json_query("agent", _ref("Agent"), "an Agent as JSON", required=True)],
                {"200": _json(_ref("Person"))},
                ALWAYS,
            )
        },
        "/xapi/activities": {
            "get": _operation(
                "The Activity with its canonical definition (1.0.3: 404 if never mentioned)",
                [ACTIVITY_ID],
                {"200": _json(_ref("Activity"))},
                (*ALWAYS, "404"),
            )
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Learnloop xAPI",
            "version": "1.0.3 and 2.0.0",
            "description": (
                "An xAPI 1.0.3 and 2.0.0 Learning Record Store on one endpoint; the "
                f"{VERSION_HEADER} header of each request chooses the rules."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": {**paths, **_oauth_paths()},
        "components": {
            "schemas": {**SCHEMAS, **OAUTH_SCHEMAS},
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "a key and secret"},
                "oauth2": {
                    "type": "oauth2",
                    "description": (
                        "a bearer token bought with a key and secret at /oauth/token; it "
                        "holds the scopes it was granted, checked as the credential's are"
                    ),
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": base_url.rstrip("/") + "/oauth/token",
                            "scopes": {scope: f"xAPI scope {scope}" for scope in SCOPES},
                        }
                    },
                },
            },
        },
    }
