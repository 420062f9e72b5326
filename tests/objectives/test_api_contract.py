"""The /api server keeps to its OpenAPI document (issue 13), on SQLite and PostgreSQL.

Where they disagreed, one was fixed: the document now lists every route with the codes it
answers (tests/objectives/test_openapi.py), and the server refuses what the document calls
invalid. The last tests are what the fuzzers (tests/fuzz) found: a 500 for a review cycle that
ends on 9999-12-31, a time without an offset, a 405 for ids beyond the largest row id.
"""

from __future__ import annotations

import datetime as dt
import re

import jsonschema_rs  # comes with schemathesis (the test extras)
import pytest

from lrs import vocabulary as v
from objectives.openapi import document
from schemas.fields import MAX_ID

DOC = document("http://localhost")
CRITERION = {"verbs": [v.COMPLETED]}
UTC_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\Z")


def documented_as_valid(component: str, body: object) -> bool:
    return jsonschema_rs.Draft4Validator(
        {"$ref": f"#/components/schemas/{component}", "components": DOC["components"]}
    ).is_valid(body)


def test_every_route_of_the_api_is_documented_and_nothing_else(app):
    served = {
        (re.sub(r"<int:(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in DOC["paths"].items() for method in ops}
    assert served == documented


def test_the_served_document_is_the_document(org):
    served = org.app.test_client().get("/api/openapi.json")
    assert served.status_code == 200
    assert served.get_json() == document("http://localhost")


@pytest.mark.parametrize(
    "body",
    [
        {"title": "t", "criteria": [{}]},  # the document used to call this valid
        {"title": "t", "criteria": [{"verbs": []}]},
        {"title": "t", "criteria": [{"activity_prefix": None}]},
        {"title": "t", "rule": "k_of_n", "criteria": [CRITERION]},
        {"title": "t", "rule": "k_of_n", "k": 1.0, "criteria": [CRITERION]},  # a float
        {"title": "t", "rule": "k_of_n", "k": "1", "criteria": [CRITERION]},
        {"title": "t", "criteria": [{**CRITERION, "min_count": 2.0}]},
        {"title": "t", "criteria": [{**CRITERION, "min_count": "2"}]},
        {"title": "t", "criteria": [{**CRITERION, "unknown": 1}]},
        {"title": "t", "criteria": [{**CRITERION, "min_score": "0.5"}]},  # a string
        {"title": "t", "criteria": [{**CRITERION, "success": "true"}]},
        {"title": "t", "criteria": [{**CRITERION, "success": 1}]},
        {"title": "t", "criteria": [{**CRITERION, "with_response": "yes"}]},
        {"title": "t", "criteria": [{**CRITERION, "window_start": "2026-01-01"}]},
        {"title": "t", "criteria": [{**CRITERION, "window_end": "2026-01-01T00:00:00"}]},
        {"title": "t", "weight": "5", "criteria": [CRITERION]},
        {"title": "t", "weight": True, "criteria": [CRITERION]},
        {"template_id": 1.0},
        {"template_id": "1"},
        {"template_id": MAX_ID + 1},
    ],
)
def test_an_objective_the_document_calls_invalid_is_refused(org, body):
    component = "ObjectiveFromTemplate" if "template_id" in body else "Objective"
    assert not documented_as_valid(component, body)
    response = org.client("maya").post(f"/reviews/{org.reviews['ann']}/objectives", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["code"] == "invalid_payload"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "t", "criteria": [CRITERION]},
        {"title": "t", "rule": "k_of_n", "k": 1, "criteria": [CRITERION, CRITERION]},
        {"title": "t", "criteria": [{"parent_ids": ["http://example.com/trail"], "min_count": 2}]},
        {
            "title": "t",
            "weight": 2.5,
            "criteria": [{**CRITERION, "min_score": 0.8, "success": True, "with_response": False}],
        },
        {
            "title": "t",
            "criteria": [
                {
                    **CRITERION,
                    "window_start": "2026-01-01T00:00:00Z",
                    "window_end": "2026-02-01T00:00:00+01:00",
                }
            ],
        },
    ],
)
def test_an_objective_the_document_calls_valid_is_created(org, body):
    assert documented_as_valid("Objective", body)
    response = org.client("maya").post(f"/reviews/{org.reviews['ann']}/objectives", json=body)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    "starts_on, ends_on",
    [("20260101", "2026-06-30"), ("2026-01-01", "2026-W26-1"), ("2026-01-01", "2026-6-30")],
)
def test_a_cycle_takes_dates_as_the_document_writes_them(org, starts_on, ends_on):
    # Python's date parser also reads 20260101 and week dates; the document says YYYY-MM-DD.
    body = {"name": "H1", "starts_on": starts_on, "ends_on": ends_on}
    response = org.client("admin").post("/cycles", json=body)
    assert response.status_code == 400
    record = org.client("admin").get(
        f"/people/{org.people['ann']}/record", query_string={"since": starts_on}
    )
    assert record.status_code == (400 if starts_on != "2026-01-01" else 200)


@pytest.mark.parametrize("body", ["store", ["store"], 1, None, True])
def test_a_sign_in_body_that_is_not_an_object_is_a_400(org, body):
    # It was a 500: the route called .get on whatever JSON it was given.
    response = org.app.test_client().post("/api/tokens", json=body)
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_payload"


@pytest.mark.parametrize(
    "extra",
    [{"name": "n" * 201}, {"name": 5}, {"remember": True}, {"password": "p" * 1025}],
)
def test_a_sign_in_body_is_held_to_its_schema(org, extra):
    # A token name over 200 characters was a 500 on PostgreSQL (api_tokens.name VARCHAR(200)).
    body = {"store": "any", "email": "admin@example.com", "password": "secret", **extra}
    assert not documented_as_valid("TokenRequest", body)
    response = org.app.test_client().post("/api/tokens", json=body)
    assert response.status_code == 400, response.get_json()


@pytest.mark.parametrize("body", [b"[]", b"false", b"0", b"null", b""])
def test_setting_a_manager_needs_an_object_and_keeps_the_manager_otherwise(org, body):
    # A body that was not an object was read as {}, "no manager": ann lost hers.
    admin = org.client("admin")
    response = admin.client.put(
        f"/api/people/{org.people['ann']}/manager",
        data=body,
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    reports = org.client("maya").get("/people").get_json()
    assert org.people["ann"] in {person["id"] for person in reports}


@pytest.mark.parametrize("cycle_id", ["abc", "0", "-1", "1.0", str(MAX_ID + 1), "²"])
def test_the_cycle_filter_must_be_an_id(org, cycle_id):
    # It was ignored when it could not be read: every review came back.
    response = org.client("admin").get("/reviews", query_string={"cycle_id": cycle_id})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["path"] == "cycle_id"


def test_the_cycle_filter_filters(org):
    reviews = org.client("admin").get("/reviews", query_string={"cycle_id": org.cycle_id})
    assert reviews.status_code == 200
    assert {r["cycle_id"] for r in reviews.get_json()} == {org.cycle_id}


@pytest.mark.parametrize("method", ["get", "patch", "put", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/reviews/{}", "/api/objectives/{}", "/api/people/{}"])
def test_an_id_beyond_the_largest_row_id_is_a_404_whatever_the_method(org, path, method):
    # PATCH /api/reviews/2147483648 was a 405 naming GET: the id matched the GET route's
    # pattern, then failed its check, and Werkzeug listed that route's methods.
    client = org.client("admin").client
    for value in (MAX_ID + 1, 2**63, 10**12):
        response = client.open(path.format(value), method=method.upper(), json={})
        assert response.status_code == 404, (value, response.status_code)


def test_the_largest_row_id_is_still_a_row_id(org):
    response = org.client("admin").get(f"/reviews/{MAX_ID}")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert org.client("admin").patch(f"/reviews/{MAX_ID}", json={}).status_code == 404


def test_a_cycle_that_ends_on_the_last_day_of_the_calendar_is_served(org):
    # Its window ended at "the day after 9999-12-31": an OverflowError, a 500 on every read
    # of its reviews (schemathesis found it).
    admin = org.client("admin")
    cycle = admin.post(
        "/cycles", json={"name": "Forever", "starts_on": "9999-01-01", "ends_on": "9999-12-31"}
    ).get_json()
    review = admin.post(
        "/reviews", json={"cycle_id": cycle["id"], "person_id": org.people["ann"]}
    ).get_json()
    objective = {"title": "t", "criteria": [CRITERION]}
    assert admin.post(f"/reviews/{review['id']}/objectives", json=objective).status_code == 201
    assert admin.get(f"/reviews/{review['id']}").status_code == 200
    assert admin.get(f"/cycles/{cycle['id']}/team").status_code == 200
    record = admin.get(f"/people/{org.people['ann']}/record")
    assert record.status_code == 200 and len(record.get_json()["objectives"]) == 1


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01"])
def test_a_record_up_to_the_ends_of_the_calendar_is_served(org, until):
    response = org.client("admin").get(
        f"/people/{org.people['ann']}/record", query_string={"until": until}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["period"]["until"] == until


def test_a_met_objective_says_when_in_utc(org):
    # satisfied_at came back without an offset on SQLite ("2026-03-02T10:00:00"), which is
    # no date-time (schemathesis found it against the response schema).
    maya = org.client("maya")
    objective = maya.post(
        f"/reviews/{org.reviews['ann']}/objectives",
        json={"title": "Complete one course", "criteria": [CRITERION]},
    ).get_json()
    org.write(
        [
            {
                "actor": org.mail("ann"),
                "verb": {"id": v.COMPLETED},
                "object": {"id": "http://example.com/courses/one"},
                "timestamp": "2026-03-02T10:00:00Z",
            }
        ]
    )
    progress = maya.get(f"/objectives/{objective['id']}/progress").get_json()
    assert progress["met"] is True
    assert UTC_TIMESTAMP.match(progress["satisfied_at"]), progress["satisfied_at"]
    moment = dt.datetime.fromisoformat(progress["satisfied_at"])
    assert moment == dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
