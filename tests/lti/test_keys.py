"""The tool's signing keys: the published key set, rotation with a grace period, signing, and
the private keys sealed at rest (issue 13: "the LTI tool's private keys are stored in
plaintext while connector secrets are sealed"; now "sealed like connector secrets, with key
rotation of the sealing key documented").

Runs on SQLite and PostgreSQL.
"""

import json
import logging
import re

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, text

from learnloop import create_app
from learnloop.cli import main, upgrade_database
from learnloop.schema import alembic_config
from lrs.db import make_engine, read_transaction, write_transaction
from lrs.errors import SecretsUnavailable
from lti import jose
from lti import keys as tool_keys
from lti.models import ToolKey
from tests.lti.conftest import register_platform
from tests.lti.test_launch_endpoint import Flow
from tests.support.databases import fresh_database


def box(app):
    return app.extensions["lti"].key_box()


def test_jwks_publishes_an_rs256_signing_key(app):
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert keys and all(k["alg"] == "RS256" and k["use"] == "sig" and k["kid"] for k in keys)
    assert all("d" not in k and "p" not in k for k in keys)  # never the private parts
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_rotation_keeps_the_old_key_published_for_the_grace_period(app):
    sessions = app.extensions["learnloop"].sessions
    now = 2_000_000_000_000
    with write_transaction(sessions) as session:
        old = tool_keys.current_key(session, now, box(app)).kid
        new, retired = tool_keys.rotate_keys(session, now, 3600, box(app))
    assert old in retired
    with read_transaction(sessions) as session:
        published = [k["kid"] for k in tool_keys.published_keys(session, now + 1000)]
        assert new.kid in published and old in published
        assert tool_keys.current_key(session, now, box(app)).kid == new.kid
        assert old not in [k["kid"] for k in tool_keys.published_keys(session, now + 3_600_001)]
    with write_transaction(sessions) as session:
        tool_keys.rotate_keys(session, now + 3_600_001, 3600, box(app))  # deletes expired keys
        kids = [k["kid"] for k in tool_keys.published_keys(session, now + 3_600_002)]
    assert old not in kids and new.kid in kids


def test_signed_tokens_carry_the_current_kid(app):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        token = tool_keys.sign_with_tool_key(session, {"x": 1}, 2_100_000_000_000, box(app))
        kid = tool_keys.current_key(session, 2_100_000_000_000, box(app)).kid
    assert jose.read_header(token)["kid"] == kid


# ---- sealed at rest ---------------------------------------------------------------------------


def stored(url_or_app, kid):
    """What the database holds in ``private_jwk`` for ``kid``, read with plain SQL."""
    sql = text("SELECT private_jwk FROM lti_tool_keys WHERE kid = :kid")
    if isinstance(url_or_app, str):
        engine = make_engine(url_or_app)
        try:
            with engine.connect() as connection:
                return connection.execute(sql, {"kid": kid}).scalar_one()
        finally:
            engine.dispose()
    with read_transaction(url_or_app.extensions["learnloop"].sessions) as session:
        return session.execute(sql, {"kid": kid}).scalar_one()


def assert_sealed(value):
    """``v1.`` and URL-safe base64 only: no PEM, no JSON, so no key material in the clear."""
    assert re.fullmatch(r"v1\.[A-Za-z0-9_-]+=*", value)
    for material in ("-----BEGIN", "PRIVATE KEY", '"d"', '"kty"', "{"):
        assert material not in value


def test_the_private_key_column_holds_no_key_material_and_launches_still_sign(
    app, platform, platform_keys
):
    flow = Flow(app, platform, platform_keys)
    kid = app.test_client().get("/lti/jwks").get_json()["keys"][0]["kid"]
    assert_sealed(stored(app, kid))
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        row = session.scalar(select(ToolKey).where(ToolKey.kid == kid))
        opened = json.loads(tool_keys.private_jwk(row, box(app)))
    assert opened["kid"] == kid and "d" in opened
    _, state, nonce = flow.login()
    page = flow.launch(flow.token(nonce), state)
    assert page.status_code == 200  # the launch token of the page is signed with the sealed key
    token = re.search(r"/lti/home\?lt=([^\"&]+)", page.get_data(as_text=True)).group(1)
    assert flow.app.test_client().get(f"/lti/home?lt={token}").status_code == 200


@pytest.fixture
def fresh(request, backend, tmp_path):
    with fresh_database(request, backend, tmp_path) as url:
        yield url


def start(url, secret_key, **env):
    """``create_app`` as ``serve`` and ``worker`` run it: what "start" means here."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return create_app(
            {"database_url": url, "secret_key": secret_key, "public_url": "http://localhost"}
        )


def test_keys_stored_in_plain_text_before_0012_are_sealed_when_learnloop_starts(fresh):
    command.upgrade(alembic_config(fresh), "0011")
    private, public = jose.generate_key()
    engine = make_engine(fresh)
    with engine.begin() as connection:  # what the tool stored before revision 0012
        connection.execute(
            text(
                "INSERT INTO lti_tool_keys (kid, private_jwk, public_jwk, created_ms) "
                "VALUES (:kid, :private, :public, 1)"
            ),
            {"kid": private["kid"], "private": json.dumps(private), "public": json.dumps(public)},
        )
    engine.dispose()
    upgrade_database(fresh)
    app = start(fresh, "the sealing key")
    try:
        assert_sealed(stored(fresh, private["kid"]))
        sessions = app.extensions["learnloop"].sessions
        with write_transaction(sessions) as session:
            key = tool_keys.current_key(session, 2, box(app))
            assert key.kid == private["kid"]  # the same key, now sealed
            assert json.loads(tool_keys.private_jwk(key, box(app))) == private
            token = tool_keys.sign_with_tool_key(session, {"x": 1}, 2, box(app), "test+jwt")
            published = tool_keys.published_keys(session, 2)
        assert jose.verify_own(token, published, "test+jwt") == {"x": 1}
        assert app.test_client().get("/lti/jwks").get_json()["keys"] == [public]
    finally:
        app.extensions["learnloop"].engine.dispose()


def test_a_wrong_sealing_key_is_a_clear_503_and_a_log_line_not_a_traceback(
    fresh, platform_keys, jwks_server, caplog
):
    upgrade_database(fresh)
    right = start(fresh, "the right key")
    right.test_client().get("/lti/jwks")  # the key is made and sealed
    right.extensions["learnloop"].engine.dispose()
    caplog.set_level(logging.INFO)
    wrong = start(fresh, "another key", LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK="1")
    try:
        assert "the LTI tool cannot sign" in caplog.text and "LEARNLOOP_SECRET_KEY" in caplog.text
        assert wrong.test_client().get("/lti/jwks").status_code == 200  # public keys still
        flow = Flow(wrong, register_platform(wrong, jwks_server["url"]), platform_keys)
        _, state, nonce = flow.login()
        page = flow.launch(flow.token(nonce), state, headers={"Accept": "application/json"})
        assert page.status_code == 503
        body = page.get_json()
        assert body["code"] == "secrets_unavailable"
        assert "LEARNLOOP_SECRET_KEY differs" in body["message"]
        assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere
        with write_transaction(wrong.extensions["learnloop"].sessions) as session:
            with pytest.raises(SecretsUnavailable):
                tool_keys.sign_with_tool_key(session, {}, 1, box(wrong))
    finally:
        wrong.extensions["learnloop"].engine.dispose()


def reseal(url, new, old=None):
    env = {"LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_SECRET_KEY": new}
    if old is not None:
        env["LEARNLOOP_OLD_SECRET_KEY"] = old
    return CliRunner().invoke(main, ["lti", "reseal-keys"], env=env)


def test_reseal_keys_moves_every_key_to_a_new_sealing_key(fresh):
    upgrade_database(fresh)
    app = start(fresh, "old key")
    app.test_client().get("/lti/jwks")
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        tool_keys.rotate_keys(session, 5, 3600, box(app))  # a retired key, still in grace
        kids = list(session.scalars(select(ToolKey.kid)))
    app.extensions["learnloop"].engine.dispose()
    before = {kid: stored(fresh, kid) for kid in kids}

    result = reseal(fresh, "new key", old="old key")
    assert result.exit_code == 0, result.output
    assert "resealed: 2; already sealed with the new key: 0" in result.output
    new = tool_keys.key_box("new key")
    for kid in kids:
        value = stored(fresh, kid)
        assert_sealed(value)
        assert value != before[kid]
        assert json.loads(new.open(value, f"lti-tool-key:{kid}"))["kid"] == kid
    assert "resealed: 0; already sealed with the new key: 2" in reseal(fresh, "new key", "x").output

    lost = reseal(fresh, "newest key", old="not the key")
    assert lost.exit_code == 1 and "open with neither" in lost.output and "nothing" in lost.output
    assert not isinstance(lost.exception, SecretsUnavailable)  # a message, not a traceback
    unset = reseal(fresh, "newest key")
    assert unset.exit_code == 1 and "LEARNLOOP_OLD_SECRET_KEY" in unset.output
    for kid in kids:  # the failed runs changed nothing
        assert json.loads(new.open(stored(fresh, kid), f"lti-tool-key:{kid}"))["kid"] == kid

    restarted = start(fresh, "new key")
    try:
        with write_transaction(restarted.extensions["learnloop"].sessions) as session:
            assert tool_keys.sign_with_tool_key(session, {}, 6, box(restarted))
    finally:
        restarted.extensions["learnloop"].engine.dispose()
