"""A live Learnloop on SQLite with the sample organisation, and headless Debian Chromium.

Browser tests use Playwright's Python package with the system's ``chromium`` executable
(``LEARNLOOP_CHROMIUM`` overrides the path); no browser is downloaded.
"""

import threading

import pytest
from werkzeug.serving import make_server

from learnloop import create_app
from learnloop.cli import upgrade_database
from learnloop.worker import Worker, WorkerSettings
from web import sample

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    yield from serve_site(tmp_path_factory)


def serve_site(tmp_path_factory):
    """The sample organisation served on 127.0.0.1 with a worker beside it, as ``site``."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": str(tmp_path_factory.mktemp("inst"))})
    services = app.extensions["learnloop"]
    org = sample.seed(
        services.sessions, PASSWORD, store_name="acme", instance_secret=services.instance_secret()
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.extensions["lrs"].public_url = base  # LEARNLOOP_PUBLIC_URL: where it is served
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    worker = Worker(app, WorkerSettings(poll_seconds=0.05))  # as `learnloop serve` runs one
    worker_thread = threading.Thread(target=worker.run_forever, daemon=True)
    worker_thread.start()
    yield {"app": app, "org": org, "base": base}
    worker.stop()
    worker_thread.join(10)
    server.shutdown()
    app.extensions["learnloop"].engine.dispose()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.csp_errors = []
    page.on("console", lambda m: m.type == "error" and page.csp_errors.append(m.text))
    yield page
    context.close()


def sign_in(page, base, email, password=PASSWORD, store="acme", succeeds=True, submit="Sign in"):
    """Sign in on the sign-in page (``submit``: its button's name in the page's language)."""
    page.goto(base + "/sign-in")
    if page.locator("#store").count():  # asked only when several stores exist
        page.locator("#store").fill(store)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name=submit, exact=True).click()
    if succeeds:
        page.wait_for_url(lambda url: "/sign-in" not in url)
    page.wait_for_load_state()
