"""Shared pytest fixtures."""

# ==== Throw-away PostgreSQL (see tests/support/postgres.py) ================================
# `postgres_server`: one real PostgreSQL server per pytest process (each xdist worker starts
# its own), chosen by $LEARNLOOP_TEST_POSTGRES (auto | system | pypi | a URL). It is started
# only when a test asks for it, and an unavailable server makes the test error, never skip.
# `postgres_url`: an SQLAlchemy URL (postgresql+psycopg://) to a fresh database per module.
import os
import re
import uuid

import pytest

from tests.support.postgres import ThrowawayPostgres


@pytest.fixture(scope="session")
def postgres_server():
    with ThrowawayPostgres() as server:
        yield server


@pytest.fixture(scope="module")
def postgres_url(postgres_server, request):
    module = re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{module[:40]}_{worker}_{uuid.uuid4().hex[:8]}".replace("__", "_")
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


# ==== End of throw-away PostgreSQL ==========================================================


# ==== The Learnloop app on both databases ===================================================
# `app`: one migrated database per test module and backend (SQLite file, real PostgreSQL).
# `lrs`: a fresh store and credential per test; stores are tenants, so tests never see each
# other's rows and need no cleanup.
import base64  # noqa: E402
import itertools  # noqa: E402

from learnloop import create_app  # noqa: E402
from learnloop.cli import upgrade_database  # noqa: E402
from lrs.auth import create_credential  # noqa: E402
from lrs.db import write_transaction  # noqa: E402

_stores = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "learnloop.sqlite3"
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def app(backend):
    upgrade_database(backend)
    application = create_app({"database_url": backend, "public_url": "http://localhost"})
    yield application
    application.extensions["learnloop"].engine.dispose()


class XapiClient:
    """A test client that speaks xAPI: Basic credentials and the version header on every call."""

    def __init__(self, app, key, secret, version="2.0.0"):
        self.app = app
        self.client = app.test_client()
        self.key, self.secret = key, secret
        self.version = version

    def headers(self, extra=None, version=None):
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        headers = {
            "Authorization": "Basic " + token,
            "X-Experience-API-Version": version or self.version,
        }
        headers.update(extra or {})
        return {k: v for k, v in headers.items() if v is not None}

    def request(self, method, path, *, version=None, headers=None, **kwargs):
        return self.client.open(
            "/xapi" + path, method=method, headers=self.headers(headers, version), **kwargs
        )

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)


def make_credential(app, scopes=None, store=None):
    store = store or f"store-{next(_stores)}-{uuid.uuid4().hex[:6]}"
    key, secret = f"key-{uuid.uuid4().hex[:12]}", "secret-" + uuid.uuid4().hex
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        create_credential(session, store, scopes, key, secret)
    return store, key, secret


@pytest.fixture
def lrs(app):
    _, key, secret = make_credential(app)
    return XapiClient(app, key, secret)


# ==== Headless Chromium (tests/support/browser.py) ==========================================
# One per test process for the whole session: Playwright's sync API allows one at a time per
# thread, and the browser tests of tests/web and tests/journeys may share a process.
from tests.support.browser import chromium  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    with chromium() as launched:
        yield launched


# ==== Fuzzing figures (tests/fuzz/tally.py) =================================================
# A line per fuzzer at the end of the run: cases sent, failures found.
from tests.fuzz.tally import pytest_terminal_summary  # noqa: E402, F401
