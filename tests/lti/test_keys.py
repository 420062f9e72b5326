"""The tool's signing keys: the published key set, rotation with a grace period, signing.

Runs on SQLite and PostgreSQL.
"""

from lrs.db import read_transaction, write_transaction
from lti import jose
from lti import keys as tool_keys


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
        old = tool_keys.current_key(session, now).kid
        new, retired = tool_keys.rotate_keys(session, now, grace_seconds=3600)
    assert old in retired
    with read_transaction(sessions) as session:
        published = [k["kid"] for k in tool_keys.published_keys(session, now + 1000)]
        assert new.kid in published and old in published
        assert tool_keys.current_key(session, now).kid == new.kid
        assert old not in [k["kid"] for k in tool_keys.published_keys(session, now + 3_600_001)]
    with write_transaction(sessions) as session:
        tool_keys.rotate_keys(session, now + 3_600_001, grace_seconds=3600)  # deletes expired keys
        kids = [k["kid"] for k in tool_keys.published_keys(session, now + 3_600_002)]
    assert old not in kids and new.kid in kids


def test_signed_tokens_carry_the_current_kid(app):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        token = tool_keys.sign_with_tool_key(session, {"x": 1}, 2_100_000_000_000)
        kid = tool_keys.current_key(session, 2_100_000_000_000).kid
    assert jose.read_header(token)["kid"] == kid
