"""Fixtures of the journey tests: a real `learnloop demo` process and headless Debian Chromium.

`demo`: one `learnloop demo --host 127.0.0.1 --port <free>` per test module, on SQLite in its
own instance folder (LEARNLOOP_INSTANCE_PATH), stopped with its process group afterwards.
``demo.printed`` holds what it printed (endpoint, credential, organisation, accounts,
password); ``demo.learnloop(...)`` runs other commands against the same instance.

`browser` (tests/conftest.py): Playwright's Python package driving the system's ``chromium``
(LEARNLOOP_CHROMIUM overrides the path), never a downloaded browser; one per test process.
"""

import pytest

from tests.journeys.support import Demo, free_port


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = Demo(tmp_path_factory.mktemp("journey") / "instance", free_port())
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
