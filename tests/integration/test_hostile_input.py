"""Input an attacker would send gets a 4xx that says what and where, never a 500 (issue 13).

On SQLite and PostgreSQL: JSON nested a thousand levels deep at every entry point (statements,
documents, agent parameters, every /api body including POST /api/tokens before any sign-in,
signed webhooks); integers of 2^31, 2^63 and 2^64 in path ids, body ids and ``more`` cursors;
NUL characters anywhere; NaN, Infinity and 1e400 inside statements; duplicate keys. And what
is left over, an unexpected exception, is a JSON 500 with a request id, logged once without
the body. LTI launches are in tests/lti/test_hostile_launch.py.
"""

import base64
import json
import logging
import re
import uuid
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from connectors import github
from lrs.auth import get_or_create_store
from lrs.db import write_transaction
from objectives import accounts
from tests.conftest import XapiClient, make_credential

DEEP = 1000
DEEP_ARRAY = "[" * DEEP + "]" * DEEP
DEEP_OBJECT = '{"a":' * DEEP + "1" + "}" * DEEP
BIG = [2**31, 2**63, 2**64]
JSON_TYPE = {"Content-Type": "application/json"}
AGENT = {"mbox": "mailto:ann@example.com"}
STATEMENT = {
    "actor": AGENT,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "http://example.com/courses/secure-coding"},
}


def statement_text(**parts) -> str:
    """A statement's JSON text with raw JSON spliced in: ``result='{"score":{"raw":NaN}}'``."""
    body = json.dumps(STATEMENT)[:-1]
    for name, raw in parts.items():
        body += f', "{name}": {raw}'
    return body + "}"


def assert_names(response, status, path, fragment=""):
    """The answer is ``status`` with the project's JSON error body naming ``path``."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["status"] == status
    assert path in [e["path"] for e in body["errors"]], body
    assert fragment in body["message"], body


def stored(lrs, version="2.0.0"):
    response = lrs.get("/statements", version=version)
    assert response.status_code == 200
    return response.get_json()["statements"]


@pytest.fixture
def admin(app):
    """A store with an /api admin (bearer token) and an xAPI/admin-API credential (Basic)."""
    sessions = app.extensions["learnloop"].sessions
    store_name, key, secret = make_credential(app)
    with write_transaction(sessions) as session:
        store = get_or_create_store(session, store_name)
        account = accounts.create_account(
            session, store.id, f"admin-{uuid.uuid4().hex[:6]}@example.com", None, is_admin=True
        )
        token = accounts.issue_token(session, account)
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {
        "bearer": {"Authorization": f"Bearer {token}"},
        "basic": {"Authorization": f"Basic {basic}"},
        "xapi": XapiClient(app, key, secret),
        "client": app.test_client(),
    }


def github_connector(admin):
    response = admin["client"].post(
        "/api/admin/connectors", json={"kind": "github"}, headers=admin["basic"]
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_webhook(admin, connector, body: bytes):
    headers = {
        **JSON_TYPE,
        "X-GitHub-Event": "pull_request_review",
        "X-GitHub-Delivery": uuid.uuid4().hex,
        "X-Hub-Signature-256": github.signature(body, connector["secret"]),
    }
    return admin["client"].post(f"/connectors/github/{connector['id']}", data=body, headers=headers)


# ---- JSON nested a thousand levels deep ------------------------------------------------------


class TestDeepJson:
    @pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
    @pytest.mark.parametrize("deep", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
    def test_a_statement_with_a_deep_extension_is_a_400_naming_the_statement(
        self, lrs, version, deep
    ):
        body = statement_text(context='{"extensions": {"http://example.com/x": ' + deep + "}}")
        response = lrs.post("/statements", data=body, headers=JSON_TYPE, version=version)
        assert_names(response, 400, "statement", "statement: JSON nested deeper than 64 levels")
        assert stored(lrs, version) == []

    def test_a_deep_batch_names_the_statement_and_a_deep_put_is_refused(self, lrs):
        batch = f"[{json.dumps(STATEMENT)}, {DEEP_ARRAY}]"
        response = lrs.post("/statements", data=batch, headers=JSON_TYPE)
        assert_names(response, 400, "statements", "statements: JSON nested deeper than 64")
        batch = f"[{json.dumps(STATEMENT)}, {'[' * 100 + ']' * 100}]"
        response = lrs.post("/statements", data=batch, headers=JSON_TYPE)
        assert_names(response, 400, "statements[1]", "statements[1]: JSON nested deeper")
        response = lrs.put(
            "/statements",
            query_string={"statementId": str(uuid.uuid4())},
            data=statement_text(result=DEEP_OBJECT),
            headers=JSON_TYPE,
        )
        assert_names(response, 400, "statement", "nested deeper")
        assert stored(lrs) == []

    @pytest.mark.parametrize("method", ["POST", "PUT"])
    def test_a_deep_json_document_is_a_400_and_nothing_is_stored(self, lrs, method):
        params = {"activityId": "http://example.com/a", "agent": json.dumps(AGENT), "stateId": "s"}
        version = "1.0.3"  # a 1.0.3 PUT checks its JSON; 2.0.0 stores any bytes as they are
        response = lrs.request(
            method,
            "/activities/state",
            query_string=params,
            data=DEEP_OBJECT,
            headers=JSON_TYPE,
            version=version,
        )
        assert_names(response, 400, "document", "nested deeper")
        assert lrs.get("/activities/state", query_string=params).status_code == 404

    @pytest.mark.parametrize(
        "path, name",
        [
            ("/agents", "agent"),
            ("/statements", "agent"),
            ("/activities/state", "agent"),
        ],
    )
    def test_a_deep_agent_parameter_is_a_400_naming_it(self, lrs, path, name):
        query = {"agent": DEEP_OBJECT}
        if path == "/activities/state":
            query.update(activityId="http://example.com/a")
        assert_names(lrs.get(path, query_string=query), 400, name, "nested deeper")

    def test_post_api_tokens_before_any_sign_in(self, app):
        response = app.test_client().post("/api/tokens", data=DEEP_OBJECT, headers=JSON_TYPE)
        assert_names(response, 400, "body", "body: JSON nested deeper than 64 levels")

    @pytest.mark.parametrize(
        "path, auth",
        [
            ("/api/cycles", "bearer"),
            ("/api/templates", "bearer"),
            ("/api/people", "bearer"),
            ("/api/admin/connectors", "basic"),
            ("/api/admin/people/links", "basic"),
            ("/api/admin/lti/registrations", "basic"),
        ],
    )
    def test_every_api_body(self, admin, path, auth):
        response = admin["client"].post(path, data=DEEP_ARRAY, headers={**JSON_TYPE, **admin[auth]})
        assert_names(response, 400, "body", "nested deeper")

    def test_a_signed_webhook_is_refused_as_malformed(self, admin):
        connector = github_connector(admin)
        body = ('{"action": "submitted", "review": ' + DEEP_OBJECT + "}").encode()
        response = post_webhook(admin, connector, body)
        assert_names(response, 400, "payload", "nested deeper")
        assert response.get_json()["code"] == "malformed_payload"


# ---- Integers beyond the database's ----------------------------------------------------------


class TestBigIntegers:
    @pytest.mark.parametrize("number", BIG)
    @pytest.mark.parametrize(
        "method, path, auth",
        [
            ("GET", "/api/people/{n}", "bearer"),
            ("GET", "/api/reviews/{n}", "bearer"),
            ("DELETE", "/api/objectives/{n}", "bearer"),
            ("GET", "/api/admin/connectors/{n}", "basic"),
            ("DELETE", "/api/admin/connectors/{n}", "basic"),
            ("GET", "/api/admin/people/{n}", "basic"),
            ("GET", "/api/admin/lti/registrations/{n}", "basic"),
            ("POST", "/connectors/github/{n}", "basic"),
            ("GET", "/people/{n}", "basic"),
        ],
    )
    def test_a_path_id_no_row_can_have_matches_no_route(self, admin, method, path, auth, number):
        response = admin["client"].open(
            path.format(n=number), method=method, headers=admin[auth], json={}
        )
        # 405 when the path also fits a route of another method: Werkzeug checks methods first.
        assert response.status_code in (404, 405), response.get_data(as_text=True)[:300]

    @pytest.mark.parametrize("number", BIG)
    def test_body_ids_are_bounded(self, admin, number):
        client, bearer = admin["client"], admin["bearer"]
        response = client.post(
            "/api/reviews", json={"cycle_id": number, "person_id": 1}, headers=bearer
        )
        assert_names(response, 400, "cycle_id", "must be an id")
        response = client.post(
            "/api/reviews",
            json={"cycle_id": 1, "person_id": 1, "reviewer_ids": [number]},
            headers=bearer,
        )
        assert_names(response, 400, "reviewer_ids[0]", "must be an id")
        response = client.put("/api/people/1/manager", json={"manager_id": number}, headers=bearer)
        assert_names(response, 400, "manager_id", "must be an id")
        response = client.post(
            "/api/admin/people/links",
            json={"person": {"id": number}, "identities": [{"kind": "email", "name": "a@b.c"}]},
            headers=admin["basic"],
        )
        assert_names(response, 400, "person.id", "must be an id")

    @pytest.mark.parametrize("number", BIG)
    def test_a_query_id_too_big_to_name_a_row_is_a_400_naming_it(self, admin, number):
        # It was read as no filter at all (every review); the OpenAPI document says an id.
        response = admin["client"].get(f"/api/reviews?cycle_id={number}", headers=admin["bearer"])
        assert_names(response, 400, "cycle_id", "must be an id")

    @pytest.mark.parametrize(
        "position", [[2**63, 1], [1, 2**64], [-1, 0], ["1", 2], [1.5, 2], [1], [True, 1]]
    )
    def test_a_more_cursor_is_checked_like_any_input(self, lrs, position):
        token = json.dumps({"p": {}, "c": position}).encode()
        more = base64.urlsafe_b64encode(token).decode().rstrip("=")
        response = lrs.get("/statements", query_string={"more": more})
        assert_names(response, 400, "more", "is not a cursor issued by this LRS")

    def test_a_deep_more_cursor(self, lrs):
        more = base64.urlsafe_b64encode(DEEP_OBJECT.encode()).decode()
        assert_names(lrs.get("/statements", query_string={"more": more}), 400, "more")

    @pytest.mark.parametrize("limit", ["²", "٣", "9" * 5000])
    def test_limit_is_ascii_digits_of_any_length(self, lrs, limit):
        response = lrs.get("/statements", query_string={"limit": limit})
        assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
        if not limit.isascii():
            assert_names(response, 400, "limit")

    def test_a_big_integer_in_an_extension_is_stored_exactly(self, lrs):
        body = statement_text(
            context='{"extensions": {"http://example.com/x": ' + f"{2**64 + 1}}}}}"
        )
        assert lrs.post("/statements", data=body, headers=JSON_TYPE).status_code == 200
        (statement,) = stored(lrs)
        assert statement["context"]["extensions"]["http://example.com/x"] == 2**64 + 1


# ---- NUL characters --------------------------------------------------------------------------


class TestNul:
    @pytest.mark.parametrize(
        "statement, path",
        [
            ({"context": {"extensions": {"http://e.org/x": "a\x00"}}}, "statement.context"),
            ({"actor": {"mbox": "mailto:a@example.com", "name": "A\x00"}}, "statement.actor.name"),
            (
                {"actor": {"account": {"homePage": "http://e.org", "name": "\x00"}}},
                "statement.actor.account.name",
            ),
            ({"verb": {"id": "http://e.org/v", "display": {"en": "\x00"}}}, "statement.verb"),
        ],
    )
    def test_in_a_statement_string_is_a_400_naming_it(self, lrs, statement, path):
        response = lrs.post("/statements", json={**STATEMENT, **statement})
        assert response.status_code == 400
        body = response.get_json()
        assert body["errors"][0]["path"].startswith(path), body
        assert "NUL" in body["message"]
        assert stored(lrs) == []

    def test_in_a_key_of_a_statement(self, lrs):
        response = lrs.post(
            "/statements", json={**STATEMENT, "context": {"extensions": {"\x00": 1}}}
        )
        assert_names(response, 400, "statement.context.extensions", "NUL")

    def test_in_a_json_document_and_in_its_id(self, lrs):
        params = {"activityId": "http://example.com/a", "agent": json.dumps(AGENT), "stateId": "s"}
        response = lrs.post(
            "/activities/state", query_string=params, data='{"a":"\\u0000"}', headers=JSON_TYPE
        )
        assert_names(response, 400, "document.a", "NUL")
        response = lrs.put(
            "/activities/state", query_string={**params, "stateId": "s\x00"}, data=b"{}"
        )
        assert_names(response, 400, "stateId", "NUL")
        profile = {"activityId": "http://example.com/a", "profileId": "\x00"}
        assert_names(lrs.get("/activities/profile", query_string=profile), 400, "profileId")
        assert lrs.get("/activities/state", query_string=params).status_code == 404

    @pytest.mark.parametrize("field", ["Content-Type", "If-None-Match"])
    def test_in_a_header_field_of_the_alternate_request_syntax(self, lrs, field):
        form = {
            "Authorization": lrs.headers()["Authorization"],
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "text/plain",
            "activityId": "http://example.com/a",
            "agent": json.dumps(AGENT),
            "stateId": "s",
            "content": "hello",
            field: "text/plain\x00",
        }
        response = lrs.client.post(
            "/xapi/activities/state?method=PUT",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400
        assert field in response.get_json()["message"]

    def test_in_an_agent_parameter(self, lrs):
        agent = json.dumps({"account": {"homePage": "http://e.org", "name": "\x00"}})
        assert_names(lrs.get("/agents", query_string={"agent": agent}), 400, "agent.account.name")

    def test_in_api_bodies_before_and_after_sign_in(self, admin):
        client = admin["client"]
        response = client.post(
            "/api/tokens", json={"store": "a\x00", "email": "b@example.com", "password": "c"}
        )
        assert_names(response, 400, "store", "store: must not contain NUL")
        response = client.post(
            "/api/cycles",
            json={"name": "H1\x00", "starts_on": "2026-01-01", "ends_on": "2026-06-30"},
            headers=admin["bearer"],
        )
        assert_names(response, 400, "name", "name: must not contain NUL")

    def test_in_basic_credentials_is_a_401(self, app):
        token = base64.b64encode(b"key\x00:secret").decode()
        headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}
        response = app.test_client().get("/xapi/statements", headers=headers)
        assert response.status_code == 401

    def test_in_a_form_of_the_pages(self, app):
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"csrf_token": csrf, "store": "a\x00", "email": "b@example.com", "password": "c"}
        response = client.post("/sign-in", data=form)
        assert response.status_code == 400
        assert "NUL" in response.get_data(as_text=True)


# ---- Numbers that are not JSON; duplicate keys -----------------------------------------------


class TestNotJson:
    @pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
    @pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
    def test_a_non_finite_number_is_a_400_naming_it_under_both_versions(self, lrs, version, number):
        body = statement_text(result='{"score": {"raw": ' + number + "}}")
        response = lrs.post("/statements", data=body, headers=JSON_TYPE, version=version)
        assert_names(
            response,
            400,
            "statement.result.score.raw",
            "statement.result.score.raw: not a finite number",
        )
        assert stored(lrs, version) == []

    @pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
    def test_in_an_extension_and_then_nothing_is_stored_as_null(self, lrs, version):
        body = statement_text(context='{"extensions": {"http://example.com/x": [1, NaN]}}')
        response = lrs.post("/statements", data=body, headers=JSON_TYPE, version=version)
        assert_names(response, 400, 'statement.context.extensions["http://example.com/x"][1]')
        assert stored(lrs, version) == []

    def test_duplicate_keys_are_a_400_under_2_0_naming_the_key_and_where(self, lrs):
        body = json.dumps(STATEMENT)[:-1] + ', "verb": {"id": "http://example.com/v2"}}'
        response = lrs.post("/statements", data=body, headers=JSON_TYPE)
        assert_names(response, 400, "statement", 'duplicate key "verb" in statement')
        nested = statement_text(result='{"success": true, "success": false}')
        response = lrs.post("/statements", data=f"[{nested}]", headers=JSON_TYPE)
        assert_names(response, 400, "statements[0].result", 'duplicate key "success"')
        assert stored(lrs) == []

    def test_duplicate_keys_are_accepted_under_1_0_3_the_last_wins(self, lrs):
        body = json.dumps(STATEMENT)[:-1] + ', "verb": {"id": "http://example.com/v2"}}'
        response = lrs.post("/statements", data=body, headers=JSON_TYPE, version="1.0.3")
        assert response.status_code == 200
        (statement,) = stored(lrs, "1.0.3")
        assert statement["verb"]["id"] == "http://example.com/v2"

    def test_duplicate_keys_in_our_own_api(self, admin):
        body = '{"name": "H1", "name": "H2", "starts_on": "2026-01-01", "ends_on": "2026-06-30"}'
        response = admin["client"].post(
            "/api/cycles", data=body, headers={**JSON_TYPE, **admin["bearer"]}
        )
        assert_names(response, 400, "body", 'duplicate key "name" in body')

    def test_an_identical_resend_with_big_numbers_is_still_identical(self, lrs):
        statement_id = str(uuid.uuid4())
        body = statement_text(
            id=json.dumps(statement_id), result='{"score": {"raw": 1e300, "max": 1e301}}'
        )
        assert lrs.post("/statements", data=body, headers=JSON_TYPE).status_code == 200
        assert lrs.post("/statements", data=body, headers=JSON_TYPE).status_code == 200


# ---- What is left: one handler for the unexpected -------------------------------------------


class TestUnexpected:
    SECRET = "body-secret-" + uuid.uuid4().hex

    @pytest.fixture
    def failing_write(self, app, monkeypatch):
        """The write path fails with a database error whose SQL was given the body."""
        engine = app.extensions["learnloop"].engine

        def fail(*args, **kwargs):
            with engine.connect() as connection:
                connection.execute(
                    text("SELECT x FROM no_such_table WHERE x = :x"), {"x": self.SECRET}
                )

        monkeypatch.setattr("lrs.statements.views.prepare_batch", fail)

    def test_is_a_json_500_with_a_request_id_logged_once_without_the_body(
        self, lrs, failing_write, caplog
    ):
        body = {**STATEMENT, "context": {"extensions": {"http://example.com/s": self.SECRET}}}
        with caplog.at_level(logging.INFO):
            response = lrs.post("/statements", json=body)
        assert response.status_code == 500
        answer = response.get_json()
        request_id = answer["request_id"]
        assert answer["code"] == "internal_error" and request_id in answer["message"]
        assert response.headers["X-Request-Id"] == request_id
        assert self.SECRET not in response.get_data(as_text=True)
        records = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(records) == 1, [r.getMessage() for r in records]
        (record,) = records
        assert record.exc_info is not None
        logged = caplog.text
        assert request_id in logged and "POST /xapi/statements" in logged
        assert self.SECRET not in logged and lrs.secret not in logged
        assert "Authorization" not in logged and "Basic " not in logged

    def test_a_sane_incoming_request_id_is_reused_an_insane_one_replaced(self, lrs, failing_write):
        response = lrs.post("/statements", json=STATEMENT, headers={"X-Request-Id": "edge-42.a"})
        assert response.get_json()["request_id"] == "edge-42.a"
        assert response.headers["X-Request-Id"] == "edge-42.a"
        for insane in ("a b<c>", "x" * 200, "-leading-dash"):
            response = lrs.post("/statements", json=STATEMENT, headers={"X-Request-Id": insane})
            assert response.get_json()["request_id"] != insane
            assert response.headers["X-Request-Id"] == response.get_json()["request_id"]

    def test_a_page_shows_the_request_id(self, app, monkeypatch):
        def fail(*args, **kwargs):
            raise RuntimeError("page failed")

        monkeypatch.setattr("web.sign_in.render_template", fail)
        response = app.test_client().get("/sign-in")
        assert response.status_code == 500
        assert response.mimetype == "text/html"
        assert response.headers["X-Request-Id"] in response.get_data(as_text=True)

    def test_client_errors_are_not_swallowed(self, lrs, app):
        missing = app.test_client().get("/api/no-such-route")
        assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
        assert "request_id" not in missing.get_json()
        bad = lrs.post("/statements", json={"actor": AGENT})
        assert bad.status_code == 400 and bad.get_json()["errors"]
