"""OAuth 2.0 client credentials on the xAPI endpoint (issue 17), on SQLite and PostgreSQL.

A real OAuth client (authlib's ``OAuth2Session``) buys a token from a served Learnloop with a
credential's key and secret and then writes and reads statements with it, as LinkedIn Learning
and other providers do; the rest drives the endpoints with the test client: scopes, expiry by
the app's clock, revocation three ways, the RFC 6749 errors, the throttle, the metadata, and
that the token is in no log line and no table.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import uuid

import pytest
from authlib.integrations.requests_client import OAuth2Session
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from learnloop.cli import main
from learnloop.logs import JsonFormatter
from lrs.auth import revoke_credential, token_digest
from lrs.db import read_transaction, write_transaction
from lrs.errors import ConfigError
from lrs.models import Credential
from lrs.oauth import settings_from_env
from lrs.oauth_models import OAuthToken
from tests.conftest import make_credential

V2 = {"X-Experience-API-Version": "2.0.0"}


def statement(email="ann@example.com"):
    return {
        "actor": {"objectType": "Agent", "mbox": f"mailto:{email}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
        "object": {"id": "http://example.com/courses/oauth-" + uuid.uuid4().hex[:8]},
    }


def basic(key, secret):
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def fresh_address():
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def get_token(app, key, secret, scope=None, address=None, **form):
    data = {"grant_type": "client_credentials", **form}
    if scope is not None:
        data["scope"] = scope
    return app.test_client().post(
        "/oauth/token",
        data=data,
        headers={"Authorization": basic(key, secret)},
        environ_base={"REMOTE_ADDR": address or fresh_address()},
    )


def bearer(token, **extra):
    return {"Authorization": f"Bearer {token}", **V2, **extra}


def services(app):
    return app.extensions["learnloop"]


@pytest.fixture(scope="module")
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _plain_http_for_the_client(monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the live server is http on loopback


@pytest.fixture
def credential(app):
    _, key, secret = make_credential(app)
    return key, secret


# ---- A real OAuth client, end to end ------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_real_oauth_client_gets_a_token_then_writes_and_reads_statements(
    app, live, credential, method
):
    key, secret = credential
    client = OAuth2Session(key, secret, token_endpoint_auth_method=method)
    token = client.fetch_token(live + "/oauth/token", grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "all"  # the credential's scopes when none are asked for
    assert len(token["access_token"]) >= 40

    sent = statement()
    posted = client.post(live + "/xapi/statements", json=sent, headers=V2)
    assert posted.status_code == 200, posted.text
    [statement_id] = posted.json()
    read = client.get(live + "/xapi/statements", params={"statementId": statement_id}, headers=V2)
    assert read.status_code == 200, read.text
    stored = read.json()
    assert stored["object"]["id"] == sent["object"]["id"]
    # The authority of a statement written with a token is its credential's, as with Basic.
    assert stored["authority"]["account"]["name"] == key


def test_the_token_answer_is_not_cached_and_basic_keeps_working(app, lrs):
    answer = get_token(app, lrs.key, lrs.secret)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"
    assert set(answer.get_json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert lrs.post("/statements", json=statement()).status_code == 200
    assert lrs.get("/statements").status_code == 200


# ---- Scopes -------------------------------------------------------------------------------------


def test_a_token_narrowed_to_statements_read_reads_but_cannot_write(app, credential):
    key, secret = credential
    answer = get_token(app, key, secret, scope="statements/read")
    assert answer.status_code == 200
    assert answer.get_json()["scope"] == "statements/read"
    token = answer.get_json()["access_token"]
    client = app.test_client()
    refused = client.post("/xapi/statements", json=statement(), headers=bearer(token))
    assert refused.status_code == 403
    assert "statements/write" in refused.get_json()["message"]
    assert client.get("/xapi/statements", headers=bearer(token)).status_code == 200
    # and nothing was written
    listed = client.get("/xapi/statements", headers=bearer(token)).get_json()
    assert listed["statements"] == []


def test_a_write_only_token_cannot_read_or_touch_documents(app, credential):
    key, secret = credential
    token = get_token(app, key, secret, scope="statements/write").get_json()["access_token"]
    client = app.test_client()
    wrote = client.post("/xapi/statements", json=statement(), headers=bearer(token))
    assert wrote.status_code == 200
    assert client.get("/xapi/statements", headers=bearer(token)).status_code == 403
    state = client.get(
        "/xapi/activities/state",
        query_string={
            "activityId": "http://example.com/a",
            "agent": '{"mbox":"mailto:ann@example.com"}',
            "stateId": "s",
        },
        headers=bearer(token),
    )
    assert state.status_code == 403


def test_scopes_beyond_the_credentials_are_invalid_scope(app):
    _, key, secret = make_credential(app, scopes=["statements/write", "statements/read/mine"])
    default = get_token(app, key, secret)
    assert default.get_json()["scope"] == "statements/write statements/read/mine"

    wider = get_token(app, key, secret, scope="statements/write statements/read")
    assert wider.status_code == 400
    body = wider.get_json()
    assert body["error"] == "invalid_scope"
    assert "statements/read" in body["error_description"]
    assert wider.headers["Cache-Control"] == "no-store"

    unknown = get_token(app, key, secret, scope="statements/delete")
    assert unknown.get_json()["error"] == "invalid_scope"
    assert "'statements/delete'" in unknown.get_json()["error_description"]


def test_a_scope_of_any_characters_is_refused_in_words_a_client_can_read(app, credential):
    # RFC 6749 §5.2 allows printable ASCII only in error_description; authlib raises otherwise.
    key, secret = credential
    answer = get_token(app, key, secret, scope='h\u00c1N\x0fm "x\\y"')
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid_scope"
    assert "unknown scope 'h?N?" in answer.get_json()["error_description"]


def test_a_credential_with_all_may_ask_for_any_xapi_scope(app, credential):
    key, secret = credential
    answer = get_token(app, key, secret, scope="state profile")
    assert answer.status_code == 200
    assert answer.get_json()["scope"] == "state profile"


# ---- Client authentication and request errors (RFC 6749 §5.2) -----------------------------------


def test_a_wrong_secret_or_unknown_key_is_invalid_client_401(app, credential):
    key, _ = credential
    for who, secret in ((key, "wrong-secret-123"), ("no-such-key", "whatever-secret")):
        answer = get_token(app, who, secret)
        assert answer.status_code == 401
        assert answer.get_json()["error"] == "invalid_client"
        assert answer.get_json()["error_description"]
        assert answer.headers["WWW-Authenticate"].startswith("Basic ")
    anonymous = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"})
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "invalid_client"


def test_a_malformed_basic_header_is_invalid_client_not_a_crash(app):
    answer = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "form, kwargs, error, words",
    [
        ({"grant_type": "password"}, {}, "unsupported_grant_type", "password"),
        ({"scope": "all"}, {}, "invalid_request", "grant_type"),
        ({"grant_type": ["client_credentials", "client_credentials"]}, {}, "invalid_request",
         "more than once"),
        (None, {"json": {"grant_type": "client_credentials"}}, "invalid_request",
         "x-www-form-urlencoded"),
        ({"grant_type": "client_credentials"}, {"query_string": {"scope": "all"}},
         "invalid_request", "query string"),
    ],
)  # fmt: skip
def test_a_malformed_token_request_is_named(app, credential, form, kwargs, error, words):
    key, secret = credential
    answer = app.test_client().post(
        "/oauth/token", data=form, headers={"Authorization": basic(key, secret)}, **kwargs
    )
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == error
    assert words in answer.get_json()["error_description"]


def test_failed_secrets_at_the_token_endpoint_are_throttled_like_basic(app, credential):
    key, secret = credential
    address = fresh_address()
    for _ in range(10):
        assert get_token(app, key, "wrong-secret-xyz", address=address).status_code == 401
    locked = get_token(app, key, secret, address=address)  # even the right one, from there
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    # ... and HTTP Basic on /xapi from that address shares the same counters.
    xapi = app.test_client().get(
        "/xapi/statements",
        headers={"Authorization": basic(key, secret), **V2},
        environ_base={"REMOTE_ADDR": address},
    )
    assert xapi.status_code == 429
    assert get_token(app, key, secret).status_code == 200  # from elsewhere


def test_the_token_endpoint_costs_an_unknown_key_one_scrypt_and_a_known_client_one_per_period(
    app, credential, monkeypatch
):
    import hashlib

    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    key, secret = credential
    for form in ({}, {"client_id": "no-such-key-" + uuid.uuid4().hex, "client_secret": "x"}):
        calls.clear()
        if form:  # client_secret_post
            answer = app.test_client().post(
                "/oauth/token", data={"grant_type": "client_credentials", **form}
            )
        else:
            answer = get_token(app, "no-such-key-" + uuid.uuid4().hex, "x")
        assert answer.status_code == 401
        assert len(calls) == 1  # as much work as a wrong secret: keys cannot be enumerated
    calls.clear()
    address = fresh_address()
    for _ in range(10):
        assert get_token(app, key, secret, address=address).status_code == 200
    assert len(calls) == 1  # verified once, remembered like Basic


# ---- Bearer tokens on /xapi ---------------------------------------------------------------------


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["code"] == "invalid_token"


def test_an_unknown_or_malformed_token_is_invalid_token(app):
    client = app.test_client()
    assert_invalid_token(client.get("/xapi/statements", headers=bearer("no-such-token")))
    assert_invalid_token(client.get("/xapi/statements", headers=bearer("a b")))
    assert_invalid_token(client.get("/xapi/statements", headers=bearer("x" * 500)))


def test_a_token_expires_by_the_apps_clock_even_when_remembered(app, credential):
    key, secret = credential
    token = get_token(app, key, secret).get_json()["access_token"]
    client = app.test_client()
    assert client.get("/xapi/statements", headers=bearer(token)).status_code == 200  # remembered
    runtime = services(app)
    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + 3599 * 1000
    try:
        assert client.get("/xapi/statements", headers=bearer(token)).status_code == 200
        runtime.clock = lambda: real_clock() + 3600 * 1000
        expired = client.get("/xapi/statements", headers=bearer(token))
        assert_invalid_token(expired)
        assert "expired" in expired.get_json()["message"]
        runtime.authenticator.forget()  # and from the database, not only from memory
        assert_invalid_token(client.get("/xapi/statements", headers=bearer(token)))
    finally:
        runtime.clock = real_clock


def test_the_token_lifetime_is_a_setting(app, backend, monkeypatch):
    from learnloop import create_app

    monkeypatch.setenv("LEARNLOOP_OAUTH_TOKEN_SECONDS", "120")
    short = create_app({"database_url": backend, "public_url": "http://localhost"})
    try:
        _, key, secret = make_credential(short)
        assert get_token(short, key, secret).get_json()["expires_in"] == 120
    finally:
        short.extensions["learnloop"].engine.dispose()


@pytest.mark.parametrize("value", ["0", "-5", "an hour", "86401"])
def test_a_bad_token_lifetime_is_refused_at_start_naming_the_variable(value):
    with pytest.raises(ConfigError, match="LEARNLOOP_OAUTH_TOKEN_SECONDS"):
        settings_from_env({"LEARNLOOP_OAUTH_TOKEN_SECONDS": value})
    assert settings_from_env({}).token_seconds == 3600


def test_expired_tokens_are_forgotten_a_day_later_when_the_credential_buys_another(app, credential):
    key, secret = credential
    old = get_token(app, key, secret).get_json()["access_token"]
    runtime = services(app)
    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + (3600 + 86_400 + 1) * 1000
    try:
        runtime.authenticator.forget()
        assert_invalid_token(app.test_client().get("/xapi/statements", headers=bearer(old)))
        assert get_token(app, key, secret).status_code == 200
    finally:
        runtime.clock = real_clock
    with read_transaction(runtime.sessions) as session:
        hashes = session.scalars(
            select(OAuthToken.token_hash).join(Credential).where(Credential.key == key)
        ).all()
    assert len(hashes) == 1 and token_digest(old) not in hashes


def test_a_token_reads_its_own_store_only(app, credential):
    key, secret = credential
    _, other_key, other_secret = make_credential(app)
    other = app.test_client().post(
        "/xapi/statements",
        json=statement("ben@example.com"),
        headers={"Authorization": basic(other_key, other_secret), **V2},
    )
    assert other.status_code == 200
    token = get_token(app, key, secret).get_json()["access_token"]
    client = app.test_client()
    assert client.get("/xapi/statements", headers=bearer(token)).get_json()["statements"] == []
    [other_id] = other.get_json()
    missing = client.get(
        "/xapi/statements", query_string={"statementId": other_id}, headers=bearer(token)
    )
    assert missing.status_code == 404


def test_a_cold_token_check_is_one_query(app, credential):
    from sqlalchemy import event

    key, secret = credential
    token = get_token(app, key, secret).get_json()["access_token"]
    runtime = services(app)
    runtime.authenticator.forget()
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with read_transaction(runtime.sessions) as session:
            principal = runtime.authenticator.authenticate_bearer(
                session, "Bearer " + token, runtime.clock()
            )
            queries = [q for q in seen if q.lstrip().upper().startswith("SELECT")]
            assert len(queries) == 1, queries  # the token's hash, joined to its credential
            assert "token_hash" in queries[0]
            seen.clear()
            runtime.authenticator.authenticate_bearer(session, "Bearer " + token, runtime.clock())
            assert [q for q in seen if q.lstrip().upper().startswith("SELECT")] == []  # cached
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert principal.key == key and principal.scopes == frozenset({"all"})


@pytest.mark.parametrize("command", [["doctor"], ["serve", "--port", "8999"]])
def test_doctor_and_serve_name_a_bad_token_lifetime_in_one_line(tmp_path, command):
    import subprocess
    import sys

    from learnloop.cli import upgrade_database

    upgrade_database(f"sqlite:///{tmp_path / 'll.sqlite3'}")  # serve checks the schema first
    done = subprocess.run(
        [sys.executable, "-m", "learnloop.cli", *command],
        env={
            **os.environ,
            "LEARNLOOP_DEBUG": "",
            "LEARNLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'll.sqlite3'}",
            "LEARNLOOP_OAUTH_TOKEN_SECONDS": "a week",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "LEARNLOOP_OAUTH_TOKEN_SECONDS must be a whole number" in done.stdout + done.stderr
    if command[0] == "serve":
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# ---- Revocation ---------------------------------------------------------------------------------


def test_a_client_revokes_its_token_with_rfc_7009(app, live, credential):
    key, secret = credential
    client = OAuth2Session(key, secret)
    token = client.fetch_token(live + "/oauth/token", grant_type="client_credentials")
    assert client.get(live + "/xapi/statements", headers=V2).status_code == 200
    revoked = client.revoke_token(live + "/oauth/revoke", token=token["access_token"])
    assert revoked.status_code == 200
    after = client.get(live + "/xapi/statements", headers=V2)
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    # An unknown token is not an error (RFC 7009 §2.2).
    assert client.revoke_token(live + "/oauth/revoke", token="never-issued").status_code == 200


def test_a_revocation_costs_the_other_clients_no_new_scrypt(app, credential, lrs, monkeypatch):
    import hashlib

    key, secret = credential
    token = get_token(app, key, secret).get_json()["access_token"]
    assert lrs.get("/statements").status_code == 200  # a Basic client, verified and remembered
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    revoked = app.test_client().post(
        "/oauth/revoke", data={"token": token}, headers={"Authorization": basic(key, secret)}
    )
    assert revoked.status_code == 200
    assert_invalid_token(app.test_client().get("/xapi/statements", headers=bearer(token)))
    assert lrs.get("/statements").status_code == 200
    assert calls == []


def test_a_client_cannot_revoke_another_clients_token(app, credential):
    key, secret = credential
    _, other_key, other_secret = make_credential(app)
    token = get_token(app, key, secret).get_json()["access_token"]
    refused = app.test_client().post(
        "/oauth/revoke",
        data={"token": token},
        headers={"Authorization": basic(other_key, other_secret)},
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_grant"
    assert app.test_client().get("/xapi/statements", headers=bearer(token)).status_code == 200
    no_token = app.test_client().post(
        "/oauth/revoke", data={}, headers={"Authorization": basic(key, secret)}
    )
    assert no_token.status_code == 400
    assert no_token.get_json()["error"] == "invalid_request"


def test_an_unknown_token_type_hint_is_unsupported_token_type_400(app, credential):
    key, secret = credential
    answer = app.test_client().post(
        "/oauth/revoke",
        data={"token": "whatever", "token_type_hint": "id_token"},
        headers={"Authorization": basic(key, secret)},
    )
    assert answer.status_code == 400  # RFC 7009 §2.2.1 (authlib itself would say 401)
    assert answer.get_json()["error"] == "unsupported_token_type"


def test_revoking_the_credential_revokes_its_tokens(app, credential):
    key, secret = credential
    token = get_token(app, key, secret).get_json()["access_token"]
    runtime = services(app)
    with write_transaction(runtime.sessions) as session:
        row = session.scalar(select(Credential).where(Credential.key == key))
        revoke_credential(session, row.store_id, row.id, row.created_at)
    runtime.authenticator.forget()
    assert_invalid_token(app.test_client().get("/xapi/statements", headers=bearer(token)))
    with read_transaction(runtime.sessions) as session:
        revoked = session.scalars(
            select(OAuthToken.revoked_ms).join(Credential).where(Credential.key == key)
        ).all()
    assert revoked and None not in revoked
    assert get_token(app, key, secret).status_code == 401  # and it buys no new ones


def test_an_administrator_revokes_every_token_of_a_credential_from_the_command_line(
    app, backend, credential
):
    key, secret = credential
    tokens = [get_token(app, key, secret).get_json()["access_token"] for _ in range(2)]
    with read_transaction(services(app).sessions) as session:
        store = session.scalar(select(Credential).where(Credential.key == key)).store_id
        from lrs.models import Store

        store_name = session.get(Store, store).name
    result = CliRunner().invoke(
        main,
        ["oauth", "revoke-tokens", "--store", store_name, "--key", key],
        env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "http://localhost"},
    )
    assert result.exit_code == 0, result.output
    assert f"revoked 2 tokens of credential {key}" in result.output
    services(app).authenticator.forget()  # another process: this one forgets within 15 s
    for token in tokens:
        assert_invalid_token(app.test_client().get("/xapi/statements", headers=bearer(token)))
    # The key and secret still work, and buy a new token.
    fresh = get_token(app, key, secret).get_json()["access_token"]
    assert app.test_client().get("/xapi/statements", headers=bearer(fresh)).status_code == 200
    with read_transaction(services(app).sessions) as session:
        from lrs.audit import AuditEvent

        actor_kind, details = session.execute(
            select(AuditEvent.actor_kind, AuditEvent.details)
            .where(AuditEvent.action == "oauth.tokens.revoked", AuditEvent.target_id == key)
            .order_by(AuditEvent.id.desc())
        ).one()
    assert actor_kind == "command_line"
    assert '"revoked":2' in details
    assert all(t not in details for t in tokens)

    other = CliRunner().invoke(
        main,
        ["oauth", "revoke-tokens", "--store", store_name, "--key", "no-such-key"],
        env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "http://localhost"},
    )
    assert other.exit_code != 0 and "no credential with key 'no-such-key'" in other.output


# ---- Secrets stay secret ------------------------------------------------------------------------


def test_a_token_is_in_no_log_line_and_no_table(app, credential, caplog):
    key, secret = credential
    caplog.set_level(logging.DEBUG)  # everything, authlib's debug lines included
    token = get_token(app, key, secret).get_json()["access_token"]
    client = app.test_client()
    client.post("/xapi/statements", json=statement(), headers=bearer(token))
    client.get("/xapi/statements", headers=bearer(token))
    client.post(
        "/oauth/revoke", data={"token": token}, headers={"Authorization": basic(key, secret)}
    )
    client.get("/xapi/statements", headers=bearer(token))
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    access = [line for line in lines if '"logger": "learnloop.access"' in line]
    assert len(access) >= 5
    assert any(key in line for line in access)  # the credential is named ...
    assert not [line for line in lines if token in line or secret in line]  # ... never a secret
    with read_transaction(services(app).sessions) as session:
        rows = session.scalars(select(OAuthToken).join(Credential).where(Credential.key == key))
        for row in rows:
            assert token not in (row.token_hash, row.scopes)
            assert len(row.token_hash) == 64


# ---- Discovery ----------------------------------------------------------------------------------


def test_the_authorization_server_metadata_names_the_endpoints(app):
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

    answer = app.test_client().get("/.well-known/oauth-authorization-server")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["issuer"] == "http://localhost"
    assert body["token_endpoint"] == "http://localhost/oauth/token"
    assert body["revocation_endpoint"] == "http://localhost/oauth/revoke"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert "statements/write" in body["scopes_supported"]
    AuthorizationServerMetadata(body).validate_token_endpoint()
    AuthorizationServerMetadata(body).validate_revocation_endpoint()
    AuthorizationServerMetadata(body).validate_grant_types_supported()


# ---- The credentials page ------------------------------------------------------------------------


def test_an_admin_sees_live_tokens_and_revokes_them_on_the_credentials_page(app):
    from tests.integration.test_audit_trail import Org, assert_by

    org = Org(app)
    _, key, secret = make_credential(app, store=org.name)
    token = get_token(app, key, secret).get_json()["access_token"]
    page = org.client("adam").get("/admin").get_data(as_text=True)
    assert "/oauth/token" in page
    assert "1 live" in page and f"Revoke the OAuth tokens of {key}" in page
    with read_transaction(services(app).sessions) as session:
        credential_id = session.scalar(select(Credential.id).where(Credential.key == key))
    path = f"/admin/credentials/{credential_id}/revoke-tokens"

    start = org.last_id()
    assert org.post("ann", path).status_code == 403  # not an administrator
    assert app.test_client().get("/xapi/statements", headers=bearer(token)).status_code == 200
    elsewhere = f"/admin/credentials/{other_credential(app, Org(app))}/revoke-tokens"
    assert org.post("adam", elsewhere).status_code == 404  # another store's credential
    assert org.events("oauth.tokens.revoked", start) == []

    client = org.client("adam")
    revoked = client.post(path, data={"csrf_token": "token"})  # a plain form: no JavaScript
    assert revoked.status_code == 302
    assert_invalid_token(app.test_client().get("/xapi/statements", headers=bearer(token)))
    event = org.one("oauth.tokens.revoked", start)
    assert_by(event, org, "adam")
    assert (event.target_kind, event.target_id) == ("credential", key)
    assert token not in event.details
    shown = client.get("/admin").get_data(as_text=True)
    assert f"Revoked 1 OAuth token of <code>{key}</code>" in shown
    assert "0 live" in shown
    # Basic and new tokens still work: only the tokens were revoked.
    assert get_token(app, key, secret).status_code == 200


def other_credential(app, org) -> int:
    _, key, _ = make_credential(app, store=org.name)
    with read_transaction(services(app).sessions) as session:
        return session.scalar(select(Credential.id).where(Credential.key == key))
