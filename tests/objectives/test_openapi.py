"""The /api OpenAPI document says what the routes answer and what they accept (issue 13).

"The OpenAPI document omits the 201/204/409 answers that routes give, accepts a float where an
id is meant, and declares ``criteria:[{}]`` valid though it is refused." These read the document
alone; tests/objectives/test_api_contract.py holds the server to it, tests/fuzz fuzzes both.
"""

from __future__ import annotations

import jsonschema_rs  # comes with schemathesis (the test extras)
import pytest
import schemathesis

from objectives.openapi import document
from schemas.fields import MAX_ID

DOC = document("http://localhost")
OPERATIONS = [
    (path, method, operation)
    for path, operations in DOC["paths"].items()
    for method, operation in operations.items()
]
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TARGET = "http://adlnet.gov/expapi/verbs/completed"


def operation(path: str, method: str) -> dict:
    return DOC["paths"][path][method]


def body_schema(name: str) -> jsonschema_rs.Draft4Validator:
    """A validator of the component ``name``, with the document's components to refer to."""
    return jsonschema_rs.Draft4Validator(
        {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    )


def test_the_document_is_valid_openapi_3():
    assert DOC["openapi"] == "3.0.3"
    schemathesis.openapi.from_dict(DOC).validate()  # the OpenAPI 3.0 meta-schema


@pytest.mark.parametrize(
    "path",
    ["/api/tokens", "/api/people", "/api/cycles", "/api/reviews", "/api/templates"]
    + ["/api/reviews/{review_id}/objectives"],
)
def test_creations_answer_201_not_200(path):
    responses = operation(path, "post")["responses"]
    assert "201" in responses and "200" not in responses
    assert responses["201"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    "path, method",
    [("/api/objectives/{objective_id}", "delete"), ("/api/people/{person_id}/manager", "put")],
)
def test_deletes_and_the_manager_answer_204_without_a_body(path, method):
    responses = operation(path, method)["responses"]
    assert "204" in responses and "200" not in responses
    assert "content" not in responses["204"]


def test_a_person_whose_email_is_someone_elses_identity_is_a_409():
    assert "409" in operation("/api/people", "post")["responses"]


def test_signing_in_too_often_is_a_429_with_retry_after():
    responses = operation("/api/tokens", "post")["responses"]
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    assert operation("/api/tokens", "post")["security"] == []


@pytest.mark.parametrize("path, method", [(p, m) for p, m, o in OPERATIONS if "requestBody" in o])
def test_every_body_can_be_too_large(path, method):
    assert "413" in operation(path, method)["responses"]


@pytest.mark.parametrize("path, method, op", OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_errors_are_documented_with_the_error_body(path, method, op):
    responses = op["responses"]
    assert "400" in responses  # NUL in a parameter, an invalid body: every route
    if op["security"]:
        assert {"401", "403"} <= set(responses)
    if "{" in path:
        assert "404" in responses
    for status, response in responses.items():
        if status.startswith("4"):
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}


WITH_IDS = [o for o in OPERATIONS if "{" in o[0]]


@pytest.mark.parametrize("path, method, op", WITH_IDS, ids=[f"{m} {p}" for p, m, _ in WITH_IDS])
def test_path_ids_are_integers_from_1_to_the_largest_row_id(path, method, op):
    parameters = [p for p in op["parameters"] if p["in"] == "path"]
    assert parameters and all(p["schema"] == ID for p in parameters)


def test_the_cycle_filter_is_an_id_too():
    (cycle_id,) = operation("/api/reviews", "get")["parameters"]
    assert cycle_id["name"] == "cycle_id" and cycle_id["schema"] == ID


def test_ids_in_bodies_are_bounded_integers():
    schemas = DOC["components"]["schemas"]
    assert schemas["Review"]["properties"]["cycle_id"] == ID
    assert schemas["Review"]["properties"]["reviewer_ids"]["items"] == ID
    assert schemas["ObjectiveFromTemplate"]["properties"]["template_id"] == ID
    manager_id = schemas["Person"]["properties"]["manager_id"]
    assert {name: manager_id[name] for name in ID} == ID and manager_id["nullable"] is True


@pytest.mark.parametrize(
    "name", [n for n, s in DOC["components"]["schemas"].items() if "properties" in s]
)
def test_every_object_refuses_unknown_properties(name):
    schema = DOC["components"]["schemas"][name]
    if name == "Error":  # the 500 adds request_id; clients read what they know
        return
    assert schema["additionalProperties"] is False


def test_every_body_is_a_component_that_refuses_unknown_properties():
    for _, _, op in OPERATIONS:
        if "requestBody" not in op:
            continue
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        for ref in schema.get("oneOf", [schema]):
            name = ref["$ref"].rsplit("/", 1)[-1]
            assert DOC["components"]["schemas"][name]["additionalProperties"] is False


@pytest.mark.parametrize(
    "criterion, valid",
    [
        ({}, False),
        ({"verbs": []}, False),
        ({"activity_ids": [], "parent_ids": []}, False),
        ({"activity_prefix": ""}, False),
        ({"source": "lms", "min_count": 3}, False),
        ({"verbs": [TARGET]}, True),
        ({"activity_ids": ["http://example.com/a"]}, True),
        ({"activity_prefix": "http://example.com/"}, True),
        ({"activity_type": "http://adlnet.gov/expapi/activities/course"}, True),
        ({"parent_ids": ["http://example.com/trail"]}, True),
    ],
)
def test_a_criterion_needs_a_target(criterion, valid):
    objective = {"title": "t", "criteria": [criterion]}
    assert body_schema("Objective").is_valid(objective) is valid
    assert body_schema("Template").is_valid(objective) is valid


@pytest.mark.parametrize(
    "objective, valid",
    [
        ({"rule": "k_of_n"}, False),
        ({"rule": "k_of_n", "k": 0}, False),
        ({"rule": "k_of_n", "k": 1}, True),
        ({"rule": "any"}, True),
        ({"criteria": []}, False),
        ({"criteria": [{"verbs": [TARGET]}] * 21}, False),
        ({"weight": 101}, False),
        ({"extra": 1}, False),
    ],
)
def test_objective_rules(objective, valid):
    body = {"title": "t", "criteria": [{"verbs": [TARGET]}], **objective}
    assert body_schema("Objective").is_valid(body) is valid


def test_criterion_identifiers_are_iris():
    properties = DOC["components"]["schemas"]["Criterion"]["properties"]
    for name in ("verbs", "activity_ids", "parent_ids"):
        assert properties[name]["items"]["format"] == "iri"
    assert properties["activity_type"]["format"] == "iri"


def test_strings_are_bounded_by_their_columns():
    schemas = DOC["components"]["schemas"]
    token = schemas["TokenRequest"]
    assert token["required"] == ["email", "password", "store"]
    assert token["properties"]["name"]["maxLength"] == 200  # api_tokens.name is VARCHAR(200)
    assert schemas["Person"]["properties"]["email"]["maxLength"] == 320
    assert schemas["Cycle"]["properties"]["name"]["maxLength"] == 200


def test_responses_are_described():
    ok = operation("/api/reviews/{review_id}", "get")["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReviewDetail"
    }
    record = operation("/api/people/{person_id}/record", "get")["responses"]["200"]["content"]
    assert set(record) == {"application/json", "text/csv"}
    team = operation("/api/cycles/{cycle_id}/team", "get")["responses"]["200"]
    assert team["headers"]["Learnloop-Uncounted-Statements"]["required"] is True
