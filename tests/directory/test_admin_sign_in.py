"""The sign-in settings page: only a store's admins open or change it, per role."""

import pytest

from directory.sign_in.models import SignInSettings
from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.db import read_transaction
from tests.support import sign_in as support
from web import sample

ROLES = {
    "admin": "admin@example.com",
    "manager": "maya@example.com",
    "reviewer": "rita@example.com",
    "learner": "ann@example.com",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('admin-sign-in') / 'db.sqlite3'}"
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


def _save(client, **form):
    token = support.csrf(client.get("/team").get_data(as_text=True))
    return client.post("/admin/sign-in", data={"csrf_token": token, **form})


def test_an_admin_opens_the_page_and_it_is_in_the_admin_navigation(app):
    client = _client(app, "admin")
    page = client.get("/admin/sign-in")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "/sign-in/sso/callback" in text and "/s/acme/sign-in" in text
    assert 'href="/admin/sign-in"' in client.get("/admin").get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "reviewer", "learner"])
def test_other_roles_are_refused(app, role):
    client = _client(app, role)
    assert client.get("/admin/sign-in").status_code == 403
    assert _save(client, issuer="https://idp.example.com", client_id="x").status_code == 403
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        row = db.get(SignInSettings, app.org.store_id)
        assert row is None or row.oidc_client_id != "x"


def test_signed_out_goes_to_sign_in(app):
    client = app.test_client()
    answer = client.get("/admin/sign-in")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    assert client.post("/admin/sign-in", data={}).status_code == 400  # no form token


def test_an_admin_sets_up_single_sign_on_and_the_secret_is_sealed(app):
    client = _client(app, "admin")
    answer = _save(
        client,
        issuer="https://idp.example.com/",
        client_id="learnloop",
        client_secret="the-client-secret",
        domains="Example.com, @example.org",
        password_enabled="1",
    )
    assert answer.status_code == 302
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "https://idp.example.com" in page and "the-client-secret" not in page
    assert "example.com, example.org" in page
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        row = db.get(SignInSettings, app.org.store_id)
        assert row.oidc_client_secret.startswith("v1.")
        assert "the-client-secret" not in row.oidc_client_secret
    again = _save(
        client,
        issuer="https://idp.example.com",
        client_id="learnloop",
        domains="example.com",
        password_enabled="1",
    )
    assert again.status_code == 302  # an empty secret keeps the sealed one
    sign_in = app.test_client().get("/sign-in").get_data(as_text=True)
    assert "Sign in with single sign-on" in sign_in


@pytest.mark.parametrize(
    "form, field",
    [
        ({"issuer": "http://127.0.0.1:8080", "client_id": "x", "client_secret": "y"}, "issuer"),
        ({"issuer": "https://idp.example.com", "client_secret": "y"}, "client_id"),
        ({"issuer": "", "password_enabled": ""}, "password_enabled"),
        ({"domains": "not a domain!"}, "domains"),
    ],
)
def test_bad_settings_are_named_and_change_nothing(app, form, field):
    client = _client(app, "admin")
    answer = _save(client, **{"password_enabled": "1", **form})
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.get_data(as_text=True) or (
        field == "password_enabled" and "nobody can sign in" in answer.get_data(as_text=True)
    )
