"""Platform URLs cannot reach inside: refused where given, refused at connect, and a deadline.

Issue 13: "The outbound URL check is bypassed by host names that are numbers or other
spellings of an address (decimal, hex, octal, short forms, ``localhost``), so registrations
and dynamic-registration links can make the server connect to loopback, private and
link-local addresses. Outbound calls have a per-read timeout but no total deadline: a slow
key-set URL held a worker 80 s."

The app here runs as in production: no ``LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK``. Only the
deadline test uses that allowance, for its own client, to reach its dribbling peer on
127.0.0.1. Runs on SQLite and PostgreSQL.
"""

import base64
import dataclasses
import socket
import time
import uuid

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.db import read_transaction
from lti.config import LtiConfig
from lti.errors import JwksUnavailable, UnsafeUrl
from lti.models import Registration, RegistrationInvite
from lti.outbound import JwksCache, PlatformHttp
from tests.conftest import make_credential
from tests.support.peers import Peer, answer_ok

#: Issue 13's spellings of loopback, private, link-local and unspecified addresses.
SPELLINGS = [
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "localhost",
    "169.254.169.254",
    "10.0.0.1",
    "0.0.0.0",
]
PUBLIC = "93.184.216.34"


@pytest.fixture(scope="module")
def app(backend):
    """The app with the production defaults: no loopback allowance, no allowed networks."""
    upgrade_database(backend)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", raising=False)
        patch.delenv("LEARNLOOP_LTI_ALLOWED_NETWORKS", raising=False)
        application = create_app({"database_url": backend, "public_url": "http://localhost"})
    assert not application.extensions["lti"].config.allow_http_loopback
    yield application
    application.extensions["learnloop"].engine.dispose()


class Admin:
    """The admin API with a fresh store's credential of scope ``all``."""

    def __init__(self, app):
        _, key, secret = make_credential(app)
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {"Authorization": "Basic " + token, "Accept": "application/json"}
        self.client = app.test_client()

    def call(self, method, path, **kwargs):
        return getattr(self.client, method)("/api/admin/lti" + path, headers=self.headers, **kwargs)


def registration(**urls):
    base = "https://moodle.example.edu/mod/lti/"
    return {
        "issuer": "https://moodle.example.edu",
        "client_id": "c-" + uuid.uuid4().hex[:10],
        "deployment_ids": ["1"],
        "auth_login_url": base + "auth.php",
        "auth_token_url": base + "token.php",
        "key_set_url": base + "certs.php",
        **urls,
    }


def resolving(app, monkeypatch, resolver):
    """Answer the tool's DNS questions with ``resolver`` (the guard's resolver hook)."""
    http = app.extensions["lti"].http
    monkeypatch.setattr(http, "guard", dataclasses.replace(http.guard, resolver=resolver))


def assert_refused(response, field):
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "unsafe_url"
    assert field in [e["path"] for e in body["errors"]]
    assert body["message"].startswith(field + ": ")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_registration_whose_key_set_url_points_inside_is_400_naming_the_field(app, spelling):
    admin = Admin(app)
    response = admin.call(
        "post", "/registrations", json=registration(key_set_url=f"https://{spelling}/jwks")
    )
    assert_refused(response, "key_set_url")
    assert admin.call("get", "/registrations").get_json() == {"registrations": []}


def test_a_host_name_that_resolves_to_loopback_is_refused(app, monkeypatch):
    def resolve(host, port):
        if host == "lms.inside.test":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "unknown")

    resolving(app, monkeypatch, resolve)
    admin = Admin(app)
    response = admin.call(
        "post", "/registrations", json=registration(auth_token_url="https://lms.inside.test/t")
    )
    assert_refused(response, "auth_token_url")
    created = admin.call("post", "/registrations", json=registration()).get_json()
    changed = admin.call(
        "patch",
        f"/registrations/{created['id']}",
        json={"key_set_url": "https://lms.inside.test/jwks"},
    )
    assert_refused(changed, "key_set_url")


def test_a_dynamic_registration_link_to_an_inside_address_is_400_and_keeps_the_invite(app):
    admin = Admin(app)
    link = admin.call("post", "/invites", json={}).get_json()["registration_url"]
    token = link.partition("?invite=")[2]
    response = app.test_client().get(
        "/lti/register",
        query_string={"invite": token, "openid_configuration": "https://0x7f000001/config"},
        headers={"Accept": "application/json"},
    )
    assert_refused(response, "openid_configuration")
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        invites = session.query(RegistrationInvite).filter_by(used_ms=None).count()
    assert invites >= 1


def test_a_key_set_host_that_rebinds_to_loopback_is_refused_when_the_tool_connects(
    app, monkeypatch
):
    """Public when registered, loopback when called: the call resolves once and refuses."""
    peer = Peer(answer_ok)
    asked = []

    def rebinding(host, port):
        if host != "jwks.rebind.test":
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        asked.append(host)
        return [PUBLIC] if len(asked) == 1 else ["127.0.0.1"]

    resolving(app, monkeypatch, rebinding)
    url = f"https://jwks.rebind.test:{peer.port}/jwks"
    try:
        created = Admin(app).call("post", "/registrations", json=registration(key_set_url=url))
        assert created.status_code == 201, created.get_data(as_text=True)
        rt = app.extensions["lti"]
        with pytest.raises(UnsafeUrl, match="127.0.0.1 is a loopback address"):
            rt.http.request("GET", url, what="key set")
        with pytest.raises(JwksUnavailable, match="not allowed"):
            JwksCache(rt.http, ttl=600, min_refetch=5).key(url, "kid-1", refresh=False)
    finally:
        peer.close()
    assert peer.connections == 0
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        assert session.query(Registration).filter_by(key_set_url=url).count() == 1


def dribble(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n")
    for _ in range(400):
        conn.sendall(b" ")
        time.sleep(0.05)


def test_a_key_set_url_that_dribbles_is_cut_at_the_total_deadline():
    """Every byte within the read timeout, the whole body in 20 s: the fetch ends after 1 s."""
    peer = Peer(dribble)
    config = LtiConfig(allow_http_loopback=True, read_timeout=5, total_timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(JwksUnavailable, match="did not answer completely within 1 s"):
            JwksCache(PlatformHttp(config), ttl=600, min_refetch=5).key(
                f"http://127.0.0.1:{peer.port}/jwks", "kid-1", refresh=False
            )
        assert time.monotonic() - started < 4  # cut near 1 s, not after 20 s or more
    finally:
        peer.close()
