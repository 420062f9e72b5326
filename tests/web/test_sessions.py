"""Issue 13, sign-in: "the `next` parameter can be turned into an off-site redirect; signing out
does not end a session (a copied cookie keeps working for 31 days); the session cookie lacks
`Secure` when served over https."

Through the pages' real routes with Flask's test client: sign in, copy the cookie, sign out,
replay it; a sign-in older than its lifetime; the cookie's flags over http, https and behind a
proxy that is (or is not) trusted; hostile ``next`` targets.
"""

import re
import uuid

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.auth import get_or_create_store
from lrs.db import write_transaction
from objectives import accounts

PASSWORD = "a-long-enough-password"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'db.sqlite3'}"
    upgrade_database(url)
    return url


def make_app(database, **config):
    app = create_app({"database_url": database, "public_url": "http://localhost", **config})
    store = f"org-{uuid.uuid4().hex[:8]}"
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        store_id = get_or_create_store(db, store).id
        accounts.create_account(db, store_id, "admin@example.com", PASSWORD, is_admin=True)
    return app, store


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, store, next_=None, **kwargs):
    form = client.get("/sign-in", **kwargs).get_data(as_text=True)
    return client.post(
        "/sign-in" + (f"?next={next_}" if next_ is not None else ""),
        data={
            "csrf_token": csrf_of(form),
            "store": store,
            "email": "admin@example.com",
            "password": PASSWORD,
        },
        **kwargs,
    )


def signed_in(client) -> bool:
    answer = client.get("/admin")
    return answer.status_code == 200


def test_signing_out_ends_the_session_even_for_a_copied_cookie(database):
    app, store = make_app(database)
    browser, thief = app.test_client(), app.test_client()
    assert sign_in(browser, store).status_code == 302
    cookie = browser.get_cookie("session").value
    thief.set_cookie("session", cookie)
    assert signed_in(thief)
    assert thief.get("/api/me").status_code == 200  # the API takes the pages' cookie too

    page = browser.get("/admin").get_data(as_text=True)
    assert browser.post("/sign-out", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert not signed_in(browser)
    assert not signed_in(thief)  # the copy ended with the sign-out
    assert thief.get("/api/me").status_code == 401


def test_a_sign_in_ends_after_its_lifetime_however_active(database):
    app, store = make_app(database)
    runtime = app.extensions["lrs"]
    real_clock = runtime.clock
    client = app.test_client()
    sign_in(client, store)
    assert signed_in(client)
    runtime.clock = lambda: real_clock() + (12 * 3600 + 60) * 1000
    try:
        answer = client.get("/admin")
        assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    finally:
        runtime.clock = real_clock


def set_cookie_header(answer) -> str:
    [header] = [v for k, v in answer.headers if k == "Set-Cookie" and v.startswith("session=")]
    return header


def test_the_session_cookie_is_secure_when_served_over_https(database):
    app, store = make_app(database, public_url="https://learnloop.example.com")
    answer = sign_in(app.test_client(), store)
    assert "Secure" in set_cookie_header(answer)
    assert "HttpOnly" in set_cookie_header(answer)


def test_forwarded_https_counts_only_from_a_trusted_proxy(database):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusted, store = make_app(database)
    answer = sign_in(
        untrusted.test_client(), store, headers=forwarded, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert "Secure" not in set_cookie_header(answer)  # anyone can send the header

    trusted, store = make_app(database, trusted_proxies="10.1.1.0/24")
    answer = sign_in(
        trusted.test_client(), store, headers=forwarded, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert "Secure" in set_cookie_header(answer)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "/%09/evil.example",
        "\t//evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leads_off_site(database, target):
    app, store = make_app(database)
    answer = sign_in(app.test_client(), store, next_=target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"  # home, not the target


def test_next_keeps_a_path_on_this_site(database):
    app, store = make_app(database)
    answer = sign_in(app.test_client(), store, next_="/statements?verb=x")
    assert answer.headers["Location"] == "/statements?verb=x"
