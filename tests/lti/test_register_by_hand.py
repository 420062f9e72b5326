"""Issue 15: an LMS admin registers a platform by hand on the page, with every field a
Brightspace registration needs (its OAuth2 audience differs from its token URL)."""

import re

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lti.models import Registration
from objectives import accounts

PASSWORD = "a-long-enough-password"
LMS = "http://127.0.0.1:9"  # never called: registering only checks the URLs


def test_the_by_hand_form_keeps_the_oauth2_audience(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", "true")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "public_url": "http://localhost"})
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as db:
        store_id = get_or_create_store(db, "acme").id
        accounts.create_account(db, store_id, "admin@example.com", PASSWORD, is_admin=True)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/sign-in",
        data={
            "csrf_token": token,
            "store": "acme",
            "email": "admin@example.com",
            "password": PASSWORD,
        },
    )
    page = client.get("/admin/lti").get_data(as_text=True)
    assert "OAuth2 audience" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/admin/lti/registrations",
        data={
            "csrf_token": token,
            "name": "Brightspace",
            "issuer": LMS,
            "client_id": "0e3b7a1c-brightspace",
            "deployment_ids": "dep-1",
            "auth_login_url": LMS + "/d2l/lti/authenticate",
            "auth_token_url": LMS + "/core/connect/token",
            "key_set_url": LMS + "/d2l/.well-known/jwks",
            "auth_audience": "https://api.brightspace.com/auth/token",
        },
    )
    assert answer.status_code == 302
    with read_transaction(sessions) as db:
        [registration] = db.query(Registration).filter_by(client_id="0e3b7a1c-brightspace").all()
        assert registration.auth_audience == "https://api.brightspace.com/auth/token"
