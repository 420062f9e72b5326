"""SCIM tokens: only a store's admins make and revoke them (page, per role), the command line,
and what a token may do: provision its own store, nothing once revoked."""

import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from directory.scim.models import ScimToken
from directory.scim.tokens import create_token
from learnloop import create_app
from learnloop.cli import main, upgrade_database
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from tests.support import sign_in as support
from web import sample

ROLES = {
    "admin": "admin@example.com",
    "manager": "maya@example.com",
    "reviewer": "rita@example.com",
    "learner": "ann@example.com",
}
TOKEN = re.compile(r'<code id="scim-token">(scim_[^<]+)</code>')


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('admin-scim') / 'db.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": str(tmp_path_factory.mktemp("i"))})
    services = app.extensions["learnloop"]
    app.org = sample.seed(
        services.sessions,
        support.PASSWORD,
        store_name="acme",
        history=False,
        instance_secret=services.instance_secret(),
    )
    app.url = url
    yield app
    services.engine.dispose()


def _client(app, role):
    client = app.test_client()
    if role != "signed out":
        token = support.csrf(client.get("/sign-in").get_data(as_text=True))
        answer = client.post(
            "/sign-in",
            data={"csrf_token": token, "email": ROLES[role], "password": support.PASSWORD},
        )
        assert answer.status_code == 302, role
    return client


def _post(client, **form):
    token = support.csrf(client.get("/team").get_data(as_text=True))
    return client.post("/admin/scim", data={"csrf_token": token, **form})


def _tokens(app):
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        rows = db.scalars(select(ScimToken).where(ScimToken.store_id == app.org.store_id))
        return [SimpleNamespace(id=t.id, name=t.name, token_hash=t.token_hash) for t in rows]


def _users(app, token):
    return app.test_client().get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})


def test_an_admin_makes_a_token_shown_once_stored_hashed_and_revokes_it(app):
    client = _client(app, "admin")
    page = client.get("/admin/scim")
    assert page.status_code == 200
    assert "/scim/v2" in page.get_data(as_text=True)
    assert 'href="/admin/scim"' in client.get("/admin/sign-in").get_data(as_text=True)

    made = _post(client, action="create", name="Okta")
    assert made.status_code == 200
    token = TOKEN.search(made.get_data(as_text=True)).group(1)
    row = next(t for t in _tokens(app) if t.name == "Okta")
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert token not in client.get("/admin/scim").get_data(as_text=True)  # shown once

    listed = _users(app, token)
    assert listed.status_code == 200 and listed.get_json()["totalResults"] == 0

    assert _post(client, action="revoke", token_id=str(row.id)).status_code == 200
    refused = _users(app, token)
    assert refused.status_code == 401
    assert refused.get_json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ["manager", "reviewer", "learner"])
def test_other_roles_are_refused(app, role):
    client = _client(app, role)
    before = len(_tokens(app))
    assert client.get("/admin/scim").status_code == 403
    assert _post(client, action="create", name="mine").status_code == 403
    assert len(_tokens(app)) == before
    assert 'href="/admin/scim"' not in client.get("/team").get_data(as_text=True)


def test_another_roles_revoke_is_refused_and_the_token_works_on(app):
    admin = _client(app, "admin")
    token = TOKEN.search(_post(admin, action="create", name="Entra").get_data(as_text=True))[1]
    row = next(t for t in _tokens(app) if t.name == "Entra")
    assert _post(_client(app, "manager"), action="revoke", token_id=str(row.id)).status_code == 403
    assert _users(app, token).status_code == 200


def test_signed_out_goes_to_sign_in(app):
    client = app.test_client()
    answer = client.get("/admin/scim")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    assert client.post("/admin/scim", data={"action": "create"}).status_code == 400  # no CSRF


def test_the_command_makes_lists_and_revokes_tokens_and_refuses_an_unknown_store(app, monkeypatch):
    monkeypatch.setenv("LEARNLOOP_DATABASE_URL", app.url)
    runner = CliRunner()
    made = runner.invoke(main, ["scim", "token", "create", "--store", "acme", "--name", "cli"])
    assert made.exit_code == 0, made.output
    token = re.search(r"token:\s+(scim_\S+)", made.output).group(1)
    token_id = re.search(r"token id:\s+(\d+)", made.output).group(1)
    assert "/scim/v2" in made.output
    assert _users(app, token).status_code == 200

    listed = runner.invoke(main, ["scim", "token", "list", "--store", "acme"])
    assert "cli" in listed.output and token not in listed.output

    revoked = runner.invoke(main, ["scim", "token", "revoke", "--store", "acme", token_id])
    assert revoked.exit_code == 0, revoked.output
    assert _users(app, token).status_code == 401

    unknown = runner.invoke(main, ["scim", "token", "create", "--store", "acmee"])
    assert unknown.exit_code != 0 and "no organisation (store) called 'acmee'" in unknown.output


def test_a_token_provisions_its_own_store_only(app):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as db:
        get_or_create_store(db, "other")
        ours = create_token(db, "acme", "ours").token
        theirs = create_token(db, "other", "theirs").token
    client = app.test_client()
    made = client.post(
        "/scim/v2/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x@acme.test"},
        headers={"Authorization": f"Bearer {ours}", "Content-Type": "application/scim+json"},
    )
    assert made.status_code == 201
    answer = client.get(
        f"/scim/v2/Users/{made.get_json()['id']}", headers={"Authorization": f"Bearer {theirs}"}
    )
    assert answer.status_code == 404
    assert answer.get_json()["status"] == "404"
    assert _users(app, theirs).get_json()["totalResults"] == 0
