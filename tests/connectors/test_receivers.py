"""Webhook receivers end to end, on SQLite and real PostgreSQL.

A signed request goes in; the statements come out of GET /xapi/statements with the right
actor, verb, object and context. Bad signatures, replays and malformed payloads store nothing.
"""

import json
import logging

import pytest
from sqlalchemy import select

from connectors import github
from connectors import profile as p
from connectors.models import Connector, Delivery
from lrs.db import read_transaction
from tests.connectors.conftest import fixture_path, load_fixture
from tests.connectors.test_gitlab import EVENT_HEADERS

PR_URL = "https://github.com/Codertocat/Hello-World/pull/2"


def create_connector(store, kind="github", **extra):
    response = store.app.test_client().post(
        "/api/admin/connectors", json={"kind": kind, **extra}, headers=store.admin_headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_github(store, connector, name, body=None, delivery="d-1", secret=None):
    body = fixture_path("github", name).read_bytes() if body is None else body
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": name.split(".")[0],
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github.signature(body, secret or connector["secret"]),
    }
    path = f"/connectors/github/{connector['id']}"
    return store.app.test_client().post(path, data=body, headers=headers)


def statements(store, **query):
    response = store.xapi.get("/statements", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["statements"]


class TestGitHubReceiver:
    def test_a_signed_review_becomes_queryable_statements(self, store):
        connector = create_connector(store)
        response = post_github(store, connector, "pull_request_review.approved")
        assert response.status_code == 202
        body = response.get_json()
        assert body["status"] == "stored" and body["event"] == "pull_request_review"
        assert len(body["statement_ids"]) == 2

        (approved,) = statements(store, verb=p.APPROVED)
        assert approved["id"] == body["statement_ids"][1]
        assert approved["actor"] == {
            "objectType": "Agent",
            "name": "octocat",
            "account": {"homePage": "https://github.com", "name": "octocat"},
        }
        assert approved["verb"]["id"] == p.APPROVED
        assert approved["object"]["id"] == PR_URL
        assert approved["object"]["definition"]["type"] == p.PULL_REQUEST
        context = approved["context"]
        assert context["contextActivities"]["grouping"][0]["id"] == (
            "https://github.com/Codertocat/Hello-World"
        )
        assert context["contextActivities"]["category"][0]["id"] == p.CODE_REVIEW_V1
        assert context["contextAgents"][0]["agent"]["account"]["name"] == "Codertocat"
        assert context["statement"]["id"] == body["statement_ids"][0]
        assert approved["authority"]["name"] == f"Learnloop connector:github:{connector['id']}"
        assert approved["timestamp"].startswith("2019-05-15T16:20:33")

        # The statements are found by their activities and agents like any others.
        assert len(statements(store, activity=PR_URL)) == 2
        agent = json.dumps({"account": {"homePage": "https://github.com", "name": "octocat"}})
        assert len(statements(store, agent=agent)) == 2

    def test_a_bad_signature_is_401_and_stores_nothing(self, store):
        connector = create_connector(store)
        response = post_github(store, connector, "pull_request_review.approved", secret="guess")
        assert response.status_code == 401
        assert response.get_json()["code"] == "signature_invalid"
        assert statements(store) == []
        with read_transaction(store.sessions) as session:
            assert (
                session.scalars(select(Delivery).where(Delivery.store_id == store.id)).all() == []
            )

    def test_a_missing_signature_is_401(self, store):
        connector = create_connector(store)
        body = fixture_path("github", "ping").read_bytes()
        response = store.app.test_client().post(
            f"/connectors/github/{connector['id']}",
            data=body,
            headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d"},
        )
        assert response.status_code == 401
        assert "X-Hub-Signature-256" in response.get_json()["message"]

    def test_a_replayed_delivery_is_stored_once(self, store):
        connector = create_connector(store)
        first = post_github(store, connector, "pull_request_review.approved", delivery="same")
        again = post_github(store, connector, "pull_request_review.approved", delivery="same")
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.get_json()["status"] == "duplicate"
        assert again.get_json()["statement_ids"] == first.get_json()["statement_ids"]
        assert len(statements(store)) == 2

    def test_another_delivery_of_the_same_event_is_another_record(self, store):
        # GitHub gives a redelivery the same guid; a different guid is a different event.
        connector = create_connector(store)
        post_github(store, connector, "issue_comment.created", delivery="a")
        post_github(store, connector, "issue_comment.created", delivery="b")
        assert len(statements(store, verb=p.COMMENTED)) == 2

    def test_a_malformed_payload_is_400_with_the_reason_and_stores_nothing(self, store):
        connector = create_connector(store)
        payload = load_fixture("github", "pull_request_review.approved")
        del payload["review"]["user"]
        body = json.dumps(payload).encode()
        response = post_github(store, connector, "pull_request_review", body=body, delivery="m")
        assert response.status_code == 400
        error = response.get_json()
        assert error["code"] == "malformed_payload"
        assert error["errors"] == [{"path": "review.user.login", "message": "is required"}]
        assert statements(store) == []
        # Nothing was recorded: the corrected delivery is accepted under the same id.
        fixed = post_github(store, connector, "pull_request_review.approved", delivery="m")
        assert fixed.status_code == 202

    @pytest.mark.parametrize("body", [b"", b"{not json", b"[]"])
    def test_a_body_that_is_not_a_json_object_is_400(self, store, body):
        connector = create_connector(store)
        response = post_github(store, connector, "ping", body=body)
        assert response.status_code == 400
        assert response.get_json()["code"] == "malformed_payload"

    def test_an_ignored_event_is_acknowledged_with_a_note(self, store):
        connector = create_connector(store)
        response = post_github(store, connector, "pull_request.closed_unmerged")
        assert response.status_code == 202
        assert response.get_json()["status"] == "ignored"
        assert "without merging" in response.get_json()["note"]
        assert statements(store) == []

    def test_unknown_connectors_and_kinds_are_json_404s(self, store):
        connector = create_connector(store)
        client = store.app.test_client()
        for path in (
            "/connectors/github/999999",
            f"/connectors/gitlab/{connector['id']}",
            f"/connectors/svn/{connector['id']}",
        ):
            response = client.post(path, data=b"{}")
            assert response.status_code == 404, path
            assert response.get_json()["status"] == 404

    def test_a_rotated_secret_replaces_the_old_one(self, store):
        connector = create_connector(store)
        response = store.app.test_client().post(
            f"/api/admin/connectors/{connector['id']}/secret", headers=store.admin_headers
        )
        new_secret = response.get_json()["secret"]
        assert new_secret != connector["secret"]
        old = post_github(store, connector, "ping", delivery="1")
        new = post_github(store, connector, "ping", delivery="2", secret=new_secret)
        assert (old.status_code, new.status_code) == (401, 202)

    def test_the_secret_is_stored_encrypted_and_never_logged(self, store, caplog):
        caplog.set_level(logging.DEBUG)
        connector = create_connector(store)
        post_github(store, connector, "pull_request_review.approved")
        post_github(store, connector, "pull_request_review.approved", secret="wrong")
        with read_transaction(store.sessions) as session:
            row = session.get(Connector, connector["id"])
            assert connector["secret"] not in row.secret and row.secret.startswith("v1.")
        assert connector["secret"] not in caplog.text
        listed = store.app.test_client().get("/api/admin/connectors", headers=store.admin_headers)
        assert connector["secret"] not in listed.get_data(as_text=True)


class TestGitLabReceiver:
    def post(self, store, connector, name, token=None, delivery="g-1"):
        body = fixture_path("gitlab", name).read_bytes()
        headers = {
            "Content-Type": "application/json",
            "X-Gitlab-Event": EVENT_HEADERS[name.split(".")[0]],
            "X-Gitlab-Token": token or connector["secret"],
            "Idempotency-Key": delivery,
        }
        path = f"/connectors/gitlab/{connector['id']}"
        return store.app.test_client().post(path, data=body, headers=headers)

    def test_a_note_on_a_merge_request_is_a_queryable_comment(self, store):
        connector = create_connector(store, "gitlab")
        response = self.post(store, connector, "note.merge_request")
        assert response.status_code == 202, response.get_json()
        (comment,) = statements(store, verb=p.COMMENTED)
        assert comment["actor"]["account"] == {"homePage": "http://example.com", "name": "user1"}
        assert comment["object"]["id"] == (
            "http://example.com/gitlab-org/gitlab-test/-/merge_requests/1"
        )
        assert comment["context"]["platform"] == "GitLab"

    def test_a_wrong_token_is_401(self, store):
        connector = create_connector(store, "gitlab")
        response = self.post(store, connector, "merge_request.approval", token="nope")
        assert response.status_code == 401
        assert statements(store) == []

    def test_a_connector_with_a_signing_token_rejects_unsigned_deliveries(self, store):
        connector = create_connector(store, "gitlab", signing_token="whsec_" + "A" * 44)
        assert connector["signed_deliveries"] is True
        response = self.post(store, connector, "merge_request.approval")
        assert response.status_code == 401
        assert "signed" in response.get_json()["message"]


class TestGerritReceiver:
    def test_a_code_review_vote_posted_with_the_token_in_the_url(self, store):
        connector = create_connector(store, "gerrit")
        body = fixture_path("gerrit", "comment-added.plus2").read_bytes()
        client = store.app.test_client()
        path = f"/connectors/gerrit/{connector['id']}"
        response = client.post(path, data=body, query_string={"token": connector["secret"]})
        assert response.status_code == 202
        (reviewed,) = statements(store, verb=p.REVIEWED)
        assert reviewed["result"]["score"] == {"raw": 2, "min": -2, "max": 2}
        assert reviewed["actor"]["account"]["name"] == "bob"
        # The plugin retries with the same body: recognised, stored once.
        again = client.post(path, data=body, query_string={"token": connector["secret"]})
        assert again.status_code == 200 and len(statements(store)) == 2

    def test_without_the_token_nothing_is_stored(self, store):
        connector = create_connector(store, "gerrit")
        body = fixture_path("gerrit", "change-merged").read_bytes()
        response = store.app.test_client().post(f"/connectors/gerrit/{connector['id']}", data=body)
        assert response.status_code == 401
        assert statements(store) == []


class TestIdentityResolution:
    def test_a_linked_login_is_stored_under_the_persons_identity(self, store):
        client = store.app.test_client()
        link = client.post(
            "/api/admin/people/links",
            json={
                "person": {"email": "octo@example.com", "name": "Mona Octo"},
                "identities": [{"kind": "github", "name": "octocat"}],
            },
            headers=store.admin_headers,
        )
        assert link.status_code == 200, link.get_json()
        connector = create_connector(store)
        post_github(store, connector, "pull_request_review.approved")

        (approved,) = statements(store, verb=p.APPROVED)
        assert approved["actor"] == {
            "objectType": "Agent",
            "mbox": "mailto:octo@example.com",
            "name": "Mona Octo",
        }
        assert approved["context"]["extensions"][p.EXT_SOURCE_ACCOUNT] == {
            "homePage": "https://github.com",
            "name": "octocat",
        }
        # The unlinked author stays a GitHub account agent.
        author = approved["context"]["contextAgents"][0]["agent"]
        assert author["account"]["name"] == "Codertocat"
        # The Agents resource sees one person with both identities.
        github_agent = {"account": {"homePage": "https://github.com", "name": "octocat"}}
        person = store.xapi.get("/agents", query_string={"agent": json.dumps(github_agent)})
        assert person.get_json()["mbox"] == ["mailto:octo@example.com"]
        assert person.get_json()["account"] == [github_agent["account"]]

    def test_statements_land_in_the_connectors_store_only(self, app, store):
        from tests.conftest import make_credential
        from tests.connectors.conftest import Store

        connector = create_connector(store)
        post_github(store, connector, "pull_request.opened")
        name, key, secret = make_credential(app)
        other = Store(app, name, 0, key, secret)
        assert statements(other) == []
        response = app.test_client().get(
            f"/api/admin/connectors/{connector['id']}", headers=other.admin_headers
        )
        assert response.status_code == 404


class TestConcurrency:
    def test_simultaneous_redeliveries_store_the_event_once(self, store):
        import threading

        connector = create_connector(store)
        results = []

        def deliver():
            response = post_github(store, connector, "pull_request_review.approved", delivery="x")
            results.append((response.status_code, tuple(response.get_json()["statement_ids"])))

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(code for code, _ in results) == [200, 200, 200, 202]
        assert len({ids for _, ids in results}) == 1
        assert len(statements(store)) == 2


class TestResolution:
    def test_a_persons_email_is_preferred_over_their_older_identities(self, store):
        from connectors import services as svc
        from lrs.db import write_transaction
        from lrs.people import services as people

        lms = {"account": {"homePage": "https://lms.example.com", "name": "42"}}
        gh = {"account": {"homePage": "https://github.com", "name": "octocat"}}
        with write_transaction(store.sessions) as session:
            person = people.ensure_person(session, store.id, lms, name="Mona")
            people.link_identity(session, store.id, person, gh)
            statement = {"actor": {"objectType": "Agent", "name": "octocat", **gh}}
            (resolved,) = svc.resolve_agents(session, store.id, [statement])
            assert resolved["actor"] == {"objectType": "Agent", "name": "Mona", **lms}
            people.link_identity(session, store.id, person, {"mbox": "mailto:m@example.com"})
            (resolved,) = svc.resolve_agents(session, store.id, [statement])
            assert resolved["actor"]["mbox"] == "mailto:m@example.com"
            assert statement["actor"]["account"] == gh["account"]  # the input is untouched
