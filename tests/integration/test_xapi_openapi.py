"""The OpenAPI document of the xAPI resources, served at /xapi/openapi.json (issue 13).

Public like /xapi/about; honest about the version header, HTTP Basic, the parameters and the
status codes of the Statement and Document Resources, Agents and Activities. tests/fuzz holds
the LRS to it; here, the document itself: every route is in it, and every real statement of
the corpus is a Statement by its schema.
"""

from __future__ import annotations

import re

import jsonschema_rs  # comes with schemathesis (the test extras)
import pytest
import schemathesis

from lrs.openapi import document
from tests.fuzz.corpus import corpus_statements

DOC = document("http://localhost")
OPERATIONS = [
    (path, method, operation)
    for path, operations in DOC["paths"].items()
    for method, operation in operations.items()
]
XAPI = [o for o in OPERATIONS if o[0].startswith("/xapi/")]
SIGNED = [o for o in XAPI if o[0] != "/xapi/about"]
OAUTH = [o for o in OPERATIONS if o[0].startswith("/oauth/")]
DOCUMENTS = ["/xapi/activities/state", "/xapi/activities/profile", "/xapi/agents/profile"]


def ids(operations):
    return [f"{method} {path}" for path, method, _ in operations]


def statement_schema() -> jsonschema_rs.Draft4Validator:
    return jsonschema_rs.Draft4Validator(
        {"$ref": "#/components/schemas/Statement", "components": DOC["components"]}
    )


def test_it_is_served_to_anyone_without_a_version_header(app):
    response = app.test_client().get("/xapi/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document("http://localhost")
    assert response.headers["X-Experience-API-Version"]


def test_it_is_valid_openapi_3():
    schemathesis.openapi.from_dict(DOC).validate()


def test_every_xapi_route_is_documented(app):
    served = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("xapi.") and rule.rule != "/xapi/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == {(path, method) for path, method, _ in XAPI}


@pytest.mark.parametrize("path, method, op", SIGNED, ids=ids(SIGNED))
def test_a_signed_operation_needs_basic_and_the_version_header(path, method, op):
    assert op["security"] == [{"basic": []}, {"oauth2": []}]  # Basic, or a bearer token
    (version,) = [p for p in op["parameters"] if p["name"] == "X-Experience-API-Version"]
    assert version["in"] == "header" and version["required"] is True
    assert version["schema"]["enum"] == ["1.0.3", "2.0.0"]
    responses = op["responses"]
    assert {"400", "401", "403", "429"} <= set(responses)
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert responses["429"]["headers"]["Retry-After"]["required"] is True


@pytest.mark.parametrize("path, method, op", XAPI, ids=ids(XAPI))
def test_every_answer_names_the_version(path, method, op):
    for response in op["responses"].values():
        assert response["headers"]["X-Experience-API-Version"]["required"] is True


def test_about_is_public():
    about = DOC["paths"]["/xapi/about"]["get"]
    assert about["security"] == []
    assert all(p["name"] != "X-Experience-API-Version" for p in about["parameters"])


def test_the_statement_resource_answers():
    statements = DOC["paths"]["/xapi/statements"]
    assert set(statements["put"]["responses"]) >= {"204", "400", "409", "413"}
    assert "200" not in statements["put"]["responses"]
    (statement_id,) = statements["put"]["parameters"][1:]
    assert statement_id["name"] == "statementId" and statement_id["required"] is True
    assert set(statements["post"]["responses"]) >= {"200", "400", "409", "413"}
    get = statements["get"]
    assert set(get["responses"]) >= {"200", "400", "404"}
    assert set(get["responses"]["200"]["content"]) == {"application/json", "multipart/mixed"}
    names = {p["name"] for p in get["parameters"]}
    assert names >= {"statementId", "voidedStatementId", "agent", "verb", "activity", "since"}
    assert names >= {"until", "limit", "format", "attachments", "ascending", "more"}
    assert get["responses"]["200"]["headers"]["X-Experience-API-Consistent-Through"]["required"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_document_resources_answer(path):
    operations = DOC["paths"][path]
    assert set(operations) == {"get", "put", "post", "delete"}
    assert set(operations["get"]["responses"]) >= {"200", "304", "404", "412"}
    for method in ("put", "post"):
        assert set(operations[method]["responses"]) >= {"204", "409", "412", "413"}
    assert set(operations["delete"]["responses"]) >= {"204", "412"}
    headers = {p["name"] for p in operations["put"]["parameters"] if p["in"] == "header"}
    assert headers >= {"If-Match", "If-None-Match"}
    assert operations["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True


def test_an_agent_parameter_is_json():
    agent = next(p for p in DOC["paths"]["/xapi/agents"]["get"]["parameters"] if p["in"] == "query")
    assert agent["name"] == "agent" and agent["required"] is True
    assert agent["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Agent"}


@pytest.mark.parametrize("index", range(len(corpus_statements())))
def test_every_statement_of_the_corpus_is_a_statement_by_the_document(index):
    statement = corpus_statements()[index]
    errors = [
        f"{e.instance_path}: {e.message[:120]}" for e in statement_schema().iter_errors(statement)
    ]
    assert errors == []


@pytest.mark.parametrize(
    "change",
    [
        {"unknown": 1},
        {"actor": {"mbox": "mailto:a@example.com", "openid": "http://example.com/a"}},
        {"actor": {"name": "nobody"}},
        {"verb": {"display": {"en": "done"}}},
        {"object": {"objectType": "Agent"}},
        {"result": {"score": {"scaled": 2}}},
        {"timestamp": None},
    ],
)
def test_what_the_document_calls_no_statement(change):
    statement = {
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.com/a"},
    }
    assert statement_schema().is_valid(statement)
    assert not statement_schema().is_valid({**statement, **change})


def test_the_version_property_follows_the_versions():
    pattern = re.compile(
        DOC["components"]["schemas"]["Statement"]["properties"]["version"]["pattern"]
    )
    assert all(pattern.match(v) for v in ("1.0.0", "1.0.3", "2.0.0", "2.0"))
    assert not any(pattern.match(v) for v in ("0.95", "3.0.0", "1.1.0"))


def test_the_oauth_endpoints_are_documented_as_served(app):
    served = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/oauth/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == {(path, method) for path, method, _ in OAUTH}
    for _, _, op in OAUTH:
        assert set(op["responses"]) == {"200", "400", "401", "429"}
        assert op["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
        assert "application/x-www-form-urlencoded" in op["requestBody"]["content"]
    token = DOC["paths"]["/oauth/token"]["post"]["responses"]["200"]
    assert token["headers"]["Cache-Control"]["schema"]["enum"] == ["no-store"]
    flow = DOC["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    metadata = app.test_client().get("/.well-known/oauth-authorization-server").get_json()
    assert flow["tokenUrl"] == metadata["token_endpoint"]
    assert set(flow["scopes"]) == set(metadata["scopes_supported"])
