"""Registrations through the admin API and the CLI; the CLI's key rotation and invites.

Runs on SQLite and PostgreSQL.
"""

import base64

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from learnloop.cli import main
from lrs.db import read_transaction
from lti import registrations
from lti.models import Registration
from tests.conftest import make_credential

API = "/api/admin/lti"
GOOD = {
    "issuer": "https://moodle.example.edu",
    "client_id": "abc123",
    "deployment_ids": ["1", "2"],
    "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
    "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
}


class Admin:
    def __init__(self, app, scopes=None):
        self.store, key, secret = make_credential(app, scopes=scopes)
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {"Authorization": "Basic " + token}
        self.client = app.test_client()

    def __getattr__(self, method):
        def call(path, **kwargs):
            return getattr(self.client, method)(API + path, headers=self.headers, **kwargs)

        return call


def unique(**changes):
    import uuid

    return {**GOOD, "client_id": "c-" + uuid.uuid4().hex[:10], **changes}


def test_an_admin_registers_a_platform_and_reads_it_back(app):
    admin = Admin(app)
    payload = unique()
    created = admin.post("/registrations", json=payload)
    assert created.status_code == 201
    body = created.get_json()
    assert body["deployment_ids"] == ["1", "2"] and body["source"] == "api"
    assert created.headers["Location"].endswith(f"/registrations/{body['id']}")
    assert admin.get(f"/registrations/{body['id']}").get_json() == body
    listed = admin.get("/registrations").get_json()["registrations"]
    assert [r["client_id"] for r in listed] == [payload["client_id"]]


def test_registrations_are_keyed_by_issuer_and_client_id(app):
    admin = Admin(app)
    payload = unique()
    assert admin.post("/registrations", json=payload).status_code == 201
    again = admin.post("/registrations", json=payload)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    other_client = admin.post(
        "/registrations", json={**payload, "client_id": payload["client_id"] + "x"}
    )
    assert other_client.status_code == 201  # Canvas: one issuer, many clients


def test_each_store_sees_only_its_own_registrations(app):
    ours, theirs = Admin(app), Admin(app)
    created = ours.post("/registrations", json=unique()).get_json()
    assert theirs.get("/registrations").get_json() == {"registrations": []}
    assert theirs.get(f"/registrations/{created['id']}").status_code == 404
    assert theirs.delete(f"/registrations/{created['id']}").status_code == 404
    assert ours.get(f"/registrations/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    "payload, path, code",
    [
        ({k: v for k, v in GOOD.items() if k != "issuer"}, "issuer", "bad_request"),
        ({**GOOD, "deployment_ids": "1"}, "deployment_ids", "bad_request"),
        ({**GOOD, "surprise": 1}, "surprise", "bad_request"),
        ({**GOOD, "client_id": "a\x00b"}, "client_id", "bad_request"),
        ({**GOOD, "key_set_url": "http://moodle.example.edu/certs"}, "key_set_url", "unsafe_url"),
        ({**GOOD, "auth_token_url": "https://192.168.1.4/token"}, "auth_token_url", "unsafe_url"),
    ],
)
def test_invalid_registrations_are_400_naming_the_field(app, payload, path, code):
    admin = Admin(app)
    response = admin.post("/registrations", json=payload)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == code and body["message"]
    if path:
        assert path in [e["path"] for e in body["errors"]]
    assert admin.get("/registrations").get_json() == {"registrations": []}


def test_deployments_and_urls_change_and_a_registration_is_deleted(app):
    admin = Admin(app)
    created = admin.post("/registrations", json=unique()).get_json()
    changed = admin.patch(
        f"/registrations/{created['id']}",
        json={"deployment_ids": ["2", "3"], "auth_audience": "https://moodle.example.edu/aud"},
    )
    assert changed.status_code == 200
    assert changed.get_json()["deployment_ids"] == ["2", "3"]
    assert changed.get_json()["auth_audience"] == "https://moodle.example.edu/aud"
    refused = admin.patch(f"/registrations/{created['id']}", json={"issuer": "https://x"})
    assert refused.status_code == 400
    assert admin.delete(f"/registrations/{created['id']}").status_code == 204
    assert admin.get(f"/registrations/{created['id']}").status_code == 404


def test_the_admin_api_needs_a_credential_with_scope_all(app):
    anonymous = app.test_client().get(API + "/registrations")
    assert anonymous.status_code == 401 and anonymous.get_json()["code"] == "unauthorized"
    reader = Admin(app, scopes=["statements/read"])
    assert reader.get("/registrations").status_code == 403
    assert reader.post("/registrations", json=unique()).status_code == 403


def test_the_tool_configuration_and_an_invite_link(app):
    admin = Admin(app)
    tool = admin.get("/tool").get_json()
    assert tool["login_url"] == "http://localhost/lti/login"
    assert tool["jwks_url"] == "http://localhost/lti/jwks"
    assert tool["canvas_configuration_url"] == "http://localhost/lti/canvas.json"
    invite = admin.post("/invites", json={"days": 1})
    assert invite.status_code == 201
    assert invite.get_json()["registration_url"].startswith("http://localhost/lti/register?invite=")
    assert admin.post("/invites", json={"days": 1000}).status_code == 400


# ---- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli(backend):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(
            main,
            list(args),
            env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "https://tool.example"},
        )

    run("stores", "create", "cli-store")  # commands never create a store (refused if it exists)
    return run


def test_the_cli_registers_a_platform(app, cli):
    result = cli(
        "lti", "register", "--store", "cli-store", "--issuer", "https://lms.example",
        "--client-id", "cli-client", "--deployment-id", "7", "--deployment-id", "8",
        "--login-url", "https://lms.example/auth", "--token-url", "https://lms.example/token",
        "--keyset-url", "https://lms.example/jwks",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cli-client" in result.output
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        row = session.scalar(select(Registration).where(Registration.client_id == "cli-client"))
        assert row.source == "cli" and registrations.deployment_ids(session, row.id) == ["7", "8"]
    again = cli(
        "lti", "register", "--store", "cli-store", "--issuer", "https://lms.example",
        "--client-id", "cli-client", "--login-url", "https://lms.example/auth",
        "--token-url", "https://lms.example/token", "--keyset-url", "https://lms.example/jwks",
    )  # fmt: skip
    assert again.exit_code != 0 and "exists" in again.output
    unsafe = cli(
        "lti", "register", "--store", "cli-store", "--issuer", "https://lms2.example",
        "--client-id", "x", "--login-url", "https://lms2.example/auth",
        "--token-url", "https://lms2.example/token", "--keyset-url", "http://lms2.example/jwks",
    )  # fmt: skip
    assert unsafe.exit_code != 0 and "https" in unsafe.output


def test_the_cli_rotates_keys_and_jwks_shows_both(app, cli):
    before = {k["kid"] for k in app.test_client().get("/lti/jwks").get_json()["keys"]}
    result = cli("lti", "rotate-keys", "--grace-days", "2")
    assert result.exit_code == 0, result.output
    new_kid = result.output.split("signing key: ")[1].split()[0]
    after = {k["kid"] for k in app.test_client().get("/lti/jwks").get_json()["keys"]}
    assert new_kid in after and before <= after


def test_the_cli_prints_a_registration_link(cli):
    result = cli("lti", "invite", "--store", "cli-store")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("https://tool.example/lti/register?invite=")


def test_the_cli_refuses_an_unknown_store_instead_of_creating_it(cli):
    result = cli("lti", "invite", "--store", "cli-stor")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no organisation (store) called 'cli-stor'")
