"""Fixtures of the journey tests: a real `learnloop demo` process and headless Debian Chromium.

`demo`: one `learnloop demo --host 127.0.0.1 --port <free>` per test module and database, in
its own instance folder (LEARNLOOP_INSTANCE_PATH), stopped with its process group afterwards.
``demo.printed`` holds what it printed (endpoint, credential, organisation, accounts,
password); ``demo.learnloop(...)`` runs other commands against the same instance.

A module runs on SQLite unless it declares the databases it runs on::

    DATABASES = ("sqlite", "postgresql")

and then each of its tests runs once per database (``test_x[sqlite]``, ``test_x[postgresql]``),
each database with a demo of its own. On "postgresql" the demo is given a fresh database of the
throw-away server (`postgres_url`, tests/conftest.py) as LEARNLOOP_DATABASE_URL, as an operator
would configure it.

`browser` (tests/conftest.py): Playwright's Python package driving the system's ``chromium``
(LEARNLOOP_CHROMIUM overrides the path), never a downloaded browser; one per test process.
"""

import pytest

from tests.journeys.support import Demo, free_port

DEFAULT_DATABASES = ("sqlite",)
KNOWN_DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """Run every test that uses the demo once per database its module declares."""
    if "demo" not in metafunc.fixturenames:
        return
    databases = tuple(getattr(metafunc.module, "DATABASES", DEFAULT_DATABASES))
    unknown = set(databases) - set(KNOWN_DATABASES)
    if unknown or not databases:
        raise pytest.UsageError(
            f"{metafunc.module.__name__}.DATABASES = {databases!r}: choose among {KNOWN_DATABASES}"
        )
    metafunc.parametrize("demo_database", databases, indirect=True, scope="module")


@pytest.fixture(scope="module")
def demo_database(request):
    """The LEARNLOOP_DATABASE_URL of the demo: none on SQLite (the instance folder's file)."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_database):
    server = Demo(
        tmp_path_factory.mktemp("journey") / "instance", free_port(), database_url=demo_database
    )
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def new_page(browser):
    """Open a fresh browser window (its own cookies) per user; each collects console errors."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        return page

    yield open_page
    for context in contexts:
        context.close()
