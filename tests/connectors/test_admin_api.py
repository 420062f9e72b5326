"""The admin API of connectors and people links: Basic auth with scope ``all``, JSON 4xx bodies.

Runs on SQLite and real PostgreSQL.
"""

import base64

import pytest

from tests.conftest import make_credential
from tests.connectors.test_receivers import create_connector


def test_connectors_are_created_listed_shown_and_deleted(store):
    client = store.app.test_client()
    created = create_connector(store, "gerrit", label="review.example.com")
    assert created["url"].endswith(f"/connectors/gerrit/{created['id']}")
    assert created["secret"] and created["label"] == "review.example.com"

    listed = client.get("/api/admin/connectors", headers=store.admin_headers).get_json()
    assert [c["id"] for c in listed["connectors"]] == [created["id"]]
    assert "secret" not in listed["connectors"][0]
    shown = client.get(f"/api/admin/connectors/{created['id']}", headers=store.admin_headers)
    assert shown.get_json()["kind"] == "gerrit" and "secret" not in shown.get_json()

    deleted = client.delete(f"/api/admin/connectors/{created['id']}", headers=store.admin_headers)
    assert deleted.status_code == 204
    again = client.get(f"/api/admin/connectors/{created['id']}", headers=store.admin_headers)
    assert again.status_code == 404 and again.get_json()["code"] == "connector_not_found"
    webhook = client.post(f"/connectors/gerrit/{created['id']}", data=b"{}")
    assert webhook.status_code == 404


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"kind": "svn"}, "kind"),
        ({}, "kind"),
        ({"kind": "github", "colour": "red"}, "colour"),
        ({"kind": "github", "signing_token": "whsec_abcdefgh"}, "signing_token"),
        ({"kind": "github", "label": 7}, "label"),
    ],
)
def test_invalid_connector_requests_are_400_naming_the_field(store, body, path):
    response = store.app.test_client().post(
        "/api/admin/connectors", json=body, headers=store.admin_headers
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["path"] == path


def test_a_body_that_is_not_json_is_400(store):
    response = store.app.test_client().post(
        "/api/admin/connectors", data="kind=github", headers=store.admin_headers
    )
    assert response.status_code == 400 and "JSON" in response.get_json()["message"]


def test_the_admin_api_needs_credentials_with_scope_all(app, store):
    client = app.test_client()
    anonymous = client.get("/api/admin/connectors")
    assert anonymous.status_code == 401 and anonymous.get_json()["code"] == "unauthorized"
    _, key, secret = make_credential(app, scopes=["statements/write"])
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    writer = client.post(
        "/api/admin/connectors",
        json={"kind": "github"},
        headers={"Authorization": "Basic " + token},
    )
    assert writer.status_code == 403


class TestPeopleLinks:
    def post(self, store, body):
        return store.app.test_client().post(
            "/api/admin/people/links", json=body, headers=store.admin_headers
        )

    def test_identities_are_attached_to_a_person_found_by_email(self, store):
        body = {
            "person": {"email": "ann@example.com", "name": "Ann Smith"},
            "identities": [
                {"kind": "github", "name": "ann-codes"},
                {"kind": "gitlab", "name": "ann", "home_page": "https://gitlab.example.com/"},
                {"kind": "gerrit", "name": "ann", "home_page": "https://review.example.com"},
            ],
        }
        response = self.post(store, body)
        assert response.status_code == 200, response.get_json()
        person = response.get_json()
        assert person["name"] == "Ann Smith" and person["email"] == "ann@example.com"
        assert person["identities"] == [
            {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
            {
                "objectType": "Agent",
                "account": {"homePage": "https://github.com", "name": "ann-codes"},
            },
            {
                "objectType": "Agent",
                "account": {"homePage": "https://gitlab.example.com", "name": "ann"},
            },
            {
                "objectType": "Agent",
                "account": {"homePage": "https://review.example.com", "name": "ann"},
            },
        ]
        # Linking again is a no-op; the person is found by id too.
        again = self.post(
            store,
            {
                "person": {"id": person["id"]},
                "identities": [{"kind": "github", "name": "ann-codes"}],
            },
        )
        assert again.get_json()["identities"] == person["identities"]
        shown = store.app.test_client().get(
            f"/api/admin/people/{person['id']}", headers=store.admin_headers
        )
        assert shown.get_json() == person

    def test_an_identity_of_someone_else_is_a_409(self, store):
        self.post(
            store,
            {
                "person": {"email": "a@example.com"},
                "identities": [{"kind": "github", "name": "shared"}],
            },
        )
        response = self.post(
            store,
            {
                "person": {"email": "b@example.com"},
                "identities": [{"kind": "github", "name": "shared"}],
            },
        )
        assert response.status_code == 409 and "already belongs" in response.get_json()["message"]

    @pytest.mark.parametrize(
        ("body", "path"),
        [
            (
                {
                    "person": {"email": "a@example.com"},
                    "identities": [{"kind": "gerrit", "name": "a"}],
                },
                "identities[0].home_page",
            ),
            ({"person": {"email": "a@example.com"}, "identities": []}, "identities"),
            (
                {
                    "person": {"id": 1, "email": "a@example.com"},
                    "identities": [{"kind": "github", "name": "a"}],
                },
                "person",
            ),
            (
                {"person": {"email": "not-mail"}, "identities": [{"kind": "github", "name": "a"}]},
                "person.email",
            ),
            (
                {
                    "person": {"email": "a@example.com"},
                    "identities": [{"kind": "icq", "name": "1"}],
                },
                "identities[0].kind",
            ),
        ],
    )
    def test_invalid_links_are_400_naming_the_field(self, store, body, path):
        response = self.post(store, body)
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["path"] == path

    def test_people_of_another_store_are_not_found(self, app, store):
        from tests.connectors.conftest import Store

        created = self.post(
            store,
            {"person": {"email": "a@example.com"}, "identities": [{"kind": "github", "name": "a"}]},
        ).get_json()
        name, key, secret = make_credential(app)
        other = Store(app, name, 0, key, secret)
        response = app.test_client().get(
            f"/api/admin/people/{created['id']}", headers=other.admin_headers
        )
        assert response.status_code == 404
        linked = app.test_client().post(
            "/api/admin/people/links",
            json={"person": {"id": created["id"]}, "identities": [{"kind": "github", "name": "x"}]},
            headers=other.admin_headers,
        )
        assert linked.status_code == 404
