"""Agents and Activities resources, the Alternate Request Syntax, CORS and version reporting.

Runs on SQLite and real PostgreSQL (Communication 1.3, 2.4, 2.5, 3.3; 9274.1.1 §4.1.6.3-4).
"""

import base64
import json
import urllib.parse
import uuid

from lrs import vocabulary as v

VERB = v.EXPERIENCED


def statement(**extra):
    base = {
        "actor": {"name": "Ann Smith", "mbox": "mailto:ann@example.com"},
        "verb": {"id": VERB},
        "object": {"id": "http://example.com/act", "definition": {"name": {"en-US": "Act"}}},
    }
    base.update(extra)
    return base


class TestAgentsResource:
    def test_person_object_with_known_names(self, lrs):
        lrs.post("/statements", json=statement())
        lrs.post(
            "/statements",
            json=statement(actor={"name": "Ann S.", "mbox": "mailto:ann@example.com"}),
        )
        response = lrs.get(
            "/agents", query_string={"agent": json.dumps({"mbox": "mailto:ann@example.com"})}
        )
        assert response.status_code == 200
        person = response.get_json()
        assert person["objectType"] == "Person"
        assert person["mbox"] == ["mailto:ann@example.com"]
        assert sorted(person["name"]) == ["Ann S.", "Ann Smith"]

    def test_unknown_agent_still_gets_a_person(self, lrs):
        # Communication 2.4: a Person with what the LRS knows, even if that is only the request.
        account = {"account": {"homePage": "https://github.com", "name": "octocat"}}
        person = lrs.get("/agents", query_string={"agent": json.dumps(account)}).get_json()
        assert person == {"objectType": "Person", "account": [account["account"]]}

    def test_agent_parameter_is_required_and_validated(self, lrs):
        # XAPI-00243, XAPI-00249.
        assert lrs.get("/agents").status_code == 400
        assert (
            lrs.get(
                "/agents", query_string={"agent": json.dumps({"mbox": "ann@example.com"})}
            ).status_code
            == 400
        )
        assert lrs.get("/agents", query_string={"agent": "not json"}).status_code == 400


class TestActivitiesResource:
    def test_canonical_definition_merges_languages(self, lrs):
        # XAPI-00254: both language descriptions from two statements come back.
        lrs.post("/statements", json=statement())
        lrs.post(
            "/statements",
            json=statement(
                object={"id": "http://example.com/act", "definition": {"name": {"fr-FR": "Acte"}}}
            ),
        )
        activity = lrs.get(
            "/activities", query_string={"activityId": "http://example.com/act"}
        ).get_json()
        assert activity == {
            "objectType": "Activity",
            "id": "http://example.com/act",
            "definition": {"name": {"en-US": "Act", "fr-FR": "Acte"}},
        }

    def test_activity_without_definition_is_an_activity_object(self, lrs):
        lrs.post("/statements", json=statement(object={"id": "http://example.com/bare"}))
        got = lrs.get(
            "/activities", query_string={"activityId": "http://example.com/bare"}, version="1.0.3"
        )
        assert got.get_json() == {"objectType": "Activity", "id": "http://example.com/bare"}

    def test_unknown_activity_is_404_under_1_0_3_and_a_stub_under_2_0(self, lrs):
        # 9274.1.1 §4.1.6.4 (delta C12): 2.0 always returns an Activity object.
        params = {"activityId": "http://example.com/never-seen"}
        assert lrs.get("/activities", query_string=params, version="1.0.3").status_code == 404
        stub = lrs.get("/activities", query_string=params, version="2.0.0")
        assert stub.status_code == 200
        assert stub.get_json() == {"objectType": "Activity", "id": "http://example.com/never-seen"}

    def test_activity_id_is_required_and_must_be_an_iri(self, lrs):
        assert lrs.get("/activities").status_code == 400
        assert lrs.get("/activities", query_string={"activityId": "not an iri"}).status_code == 400


def form(fields):
    return urllib.parse.urlencode(fields)


class TestAlternateRequestSyntax:
    """Communication 1.3: 1.0.3 clients may tunnel any request through a form POST."""

    def auth(self, lrs):
        return "Basic " + base64.b64encode(f"{lrs.key}:{lrs.secret}".encode()).decode()

    def test_put_tunnelled_through_post_with_headers_as_form_fields(self, app, lrs):
        sid = str(uuid.uuid4())
        body = form(
            {
                "statementId": sid,
                "content": json.dumps(statement()),
                "Authorization": self.auth(lrs),
                "X-Experience-API-Version": "1.0.3",
            }
        )
        response = app.test_client().post(
            "/xapi/statements?method=PUT",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 204, response.get_json()
        assert lrs.get(f"/statements?statementId={sid}").status_code == 200

    def test_get_tunnelled_through_post(self, lrs):
        lrs.post("/statements", json=statement())
        response = lrs.post(
            "/statements?method=GET",
            data=form({"limit": "1"}),
            version="1.0.3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert len(response.get_json()["statements"]) == 1

    def test_extra_query_parameters_are_rejected(self, lrs):
        body = form({"content": json.dumps(statement())})
        response = lrs.post(
            f"/statements?method=PUT&statementId={uuid.uuid4()}",
            data=body,
            version="1.0.3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 400

    def test_form_version_field_overrides_and_is_checked(self, lrs):
        body = form(
            {
                "statementId": str(uuid.uuid4()),
                "content": json.dumps(statement()),
                "X-Experience-API-Version": "0.8",
            }
        )
        response = lrs.post(
            "/statements?method=PUT",
            data=body,
            version="1.0.3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 400

    def test_not_part_of_2_0(self, lrs):
        # xAPI 2.0 dropped the syntax (delta C1): Learnloop answers 400 under 2.0.0.
        body = form({"statementId": str(uuid.uuid4()), "content": json.dumps(statement())})
        response = lrs.post(
            "/statements?method=PUT",
            data=body,
            version="2.0.0",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 400
        assert "2.0" in response.get_json()["message"]


class TestCrossOrigin:
    def test_preflight_allows_the_xapi_headers_without_credentials(self, app):
        response = app.test_client().options(
            "/xapi/statements",
            headers={
                "Origin": "https://course.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,x-experience-api-version",
            },
        )
        assert response.status_code == 204
        allowed = response.headers["Access-Control-Allow-Headers"]
        for header in (
            "Authorization",
            "X-Experience-API-Version",
            "Content-Type",
            "If-Match",
            "If-None-Match",
        ):
            assert header in allowed
        assert response.headers["Access-Control-Allow-Origin"] == "https://course.example.com"

    def test_responses_expose_the_xapi_headers(self, lrs):
        response = lrs.get("/statements", headers={"Origin": "https://course.example.com"})
        exposed = response.headers["Access-Control-Expose-Headers"]
        for header in (
            "ETag",
            "Last-Modified",
            "X-Experience-API-Version",
            "X-Experience-API-Consistent-Through",
        ):
            assert header in exposed


class TestVersionReporting:
    def test_a_request_without_version_is_answered_in_the_clients_last_version(self, lrs):
        # A dual-version LRS has no single version of its own: it names the one this client spoke.
        assert lrs.get("/statements", version="1.0.3").status_code == 200
        bad = lrs.get("/statements", headers={"X-Experience-API-Version": None})
        assert bad.status_code == 400
        assert bad.headers["X-Experience-API-Version"] == "1.0.3"
        lrs.get("/statements", version="2.0.0")
        again = lrs.get("/statements", headers={"X-Experience-API-Version": None})
        assert again.headers["X-Experience-API-Version"] == "2.0.0"


class TestLimits:
    def test_a_body_over_the_configured_maximum_is_413_and_stores_nothing(self, app, backend):
        from learnloop import create_app
        from tests.conftest import XapiClient, make_credential

        small = create_app({"database_url": backend, "max_request_bytes": 2000})
        _, key, secret = make_credential(small)
        client = XapiClient(small, key, secret)
        big = [statement() for _ in range(20)]
        response = client.post("/statements", json=big)
        assert response.status_code == 413
        assert response.get_json()["code"] == "payload_too_large"
        assert response.headers["X-Experience-API-Version"]
        assert client.get("/statements").get_json()["statements"] == []
        small.extensions["learnloop"].engine.dispose()
