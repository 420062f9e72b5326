"""Issue 13, no guessing: "passwords on `/sign-in` and `/api/tokens` and Basic secrets on `/xapi`
can be guessed at the full request rate; an unknown Basic key is answered more than ten times
faster than a known key with a wrong secret, so keys can be enumerated; every wrong secret
costs a scrypt hash (cheap denial of service)."

Through the real routes on SQLite and PostgreSQL (``app``): failures are counted per key or
account, per key or account from one address, and per address, in the database (two app
instances on one database share them, as workers and machines do); a counter at its limit
answers 429 with Retry-After before any scrypt runs; an unknown key costs the same scrypt as a
wrong secret; a verified client pays scrypt once per cache period.
"""

import base64
import hashlib
import itertools
import uuid

import pytest

from learnloop import create_app
from lrs.db import write_transaction
from lrs.throttle import LIMITS
from objectives import accounts
from tests.conftest import make_credential

PASSWORD = "the-right-password-1"
_addresses = itertools.count(1)


def fresh_address() -> str:
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def basic(key, secret):
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def xapi_get(client, key, secret, address):
    return client.get(
        "/xapi/statements?limit=1",
        headers={"Authorization": basic(key, secret), "X-Experience-API-Version": "2.0.0"},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def scrypt_calls(monkeypatch):
    """How many scrypt hashes the server computes (the cost of a credential check)."""
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_a_guessed_basic_secret_is_refused_with_429_and_retry_after(app):
    _, key, secret = make_credential(app)
    client, address = app.test_client(), fresh_address()
    allowed = LIMITS["who+address"].failures
    for _ in range(allowed):
        assert xapi_get(client, key, "wrong", address).status_code == 401
    refused = xapi_get(client, key, "wrong", address)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= LIMITS["who+address"].window_seconds
    assert refused.get_json()["code"] == "too_many_attempts"
    assert xapi_get(client, key, secret, address).status_code == 429  # locked from there
    # The client that owns the key, elsewhere, is not locked out by the guesser.
    assert xapi_get(client, key, secret, fresh_address()).status_code == 200


def test_a_locked_guesser_costs_no_scrypt_and_an_unknown_key_costs_one(app, scrypt_calls):
    _, key, _ = make_credential(app)
    client, address = app.test_client(), fresh_address()
    scrypt_calls.clear()  # making the credential hashed its secret
    assert xapi_get(client, "no-such-key-" + uuid.uuid4().hex, "x", address).status_code == 401
    assert len(scrypt_calls) == 1  # the same work as a known key with a wrong secret
    scrypt_calls.clear()
    assert xapi_get(client, key, "wrong", address).status_code == 401
    assert len(scrypt_calls) == 1
    for _ in range(LIMITS["who+address"].failures):
        xapi_get(client, key, "wrong", address)
    scrypt_calls.clear()
    assert xapi_get(client, key, "wrong", address).status_code == 429
    assert scrypt_calls == []


def test_a_verified_client_pays_scrypt_once_per_cache_period(app, scrypt_calls):
    _, key, secret = make_credential(app)
    client, address = app.test_client(), fresh_address()
    scrypt_calls.clear()
    for _ in range(20):
        assert xapi_get(client, key, secret, address).status_code == 200
    assert len(scrypt_calls) == 1


def test_one_address_trying_many_keys_is_refused(app):
    client, address = app.test_client(), fresh_address()
    for _ in range(LIMITS["address"].failures):
        xapi_get(client, "guess-" + uuid.uuid4().hex, "x", address)
    _, key, secret = make_credential(app)
    assert xapi_get(client, key, "wrong", address).status_code == 429


def make_account(app):
    store = f"org-{uuid.uuid4().hex[:8]}"
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        from lrs.auth import get_or_create_store

        store_id = get_or_create_store(db, store).id
        accounts.create_account(db, store_id, email, PASSWORD)
    return store, email


def token(client, store, email, password, address):
    return client.post(
        "/api/tokens",
        json={"store": store, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_api_token_passwords_cannot_be_guessed_and_the_window_ends(app):
    store, email = make_account(app)
    client, address = app.test_client(), fresh_address()
    for _ in range(LIMITS["who+address"].failures):
        assert token(client, store, email, "wrong-guess-123", address).status_code == 401
    refused = token(client, store, email, PASSWORD, address)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "too many" in refused.get_json()["message"]

    throttle = app.extensions["learnloop"].throttle
    real_clock = throttle.clock
    later = LIMITS["who+address"].window_seconds * 1000 + 1000
    throttle.clock = lambda: real_clock() + later
    try:
        assert token(client, store, email, PASSWORD, address).status_code == 201
    finally:
        throttle.clock = real_clock


def test_an_unknown_organisation_costs_the_same_scrypt(app, scrypt_calls):
    client = app.test_client()
    assert (
        token(client, "no-such-org", "a@example.com", "x" * 12, fresh_address()).status_code == 401
    )
    assert len(scrypt_calls) == 1


def test_the_sign_in_page_answers_429_with_retry_after(app):
    store, email = make_account(app)
    client, address = app.test_client(), fresh_address()
    page = client.get("/sign-in", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf, "store": store, "email": email, "password": "wrong-guess-123"}
    for _ in range(LIMITS["who+address"].failures):
        answer = client.post("/sign-in", data=form, environ_base={"REMOTE_ADDR": address})
        assert answer.status_code == 401
    answer = client.post(
        "/sign-in", data={**form, "password": PASSWORD}, environ_base={"REMOTE_ADDR": address}
    )
    assert answer.status_code == 429 and answer.headers["Retry-After"]
    assert "Too many attempts" in answer.get_data(as_text=True)


def test_every_worker_and_machine_shares_the_counts(app):
    """A second app on the same database (another worker or machine) sees the failures."""
    store, email = make_account(app)
    database = str(app.extensions["learnloop"].engine.url.render_as_string(hide_password=False))
    other = create_app({"database_url": database, "public_url": "http://localhost"})
    address = fresh_address()
    try:
        for _ in range(LIMITS["who+address"].failures):
            token(app.test_client(), store, email, "wrong-guess-123", address)
        assert token(other.test_client(), store, email, PASSWORD, address).status_code == 429
    finally:
        other.extensions["learnloop"].engine.dispose()
