"""Screenshots of every page at desktop and phone widths, for the README and for review.

Starts Learnloop on a throw-away SQLite database with the sample organisation and drives
Debian's headless Chromium with Playwright:

    python tools/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PASSWORD = secrets.token_urlsafe(16)  # the sample accounts live only as long as the run
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from learnloop import create_app
    from learnloop.cli import upgrade_database
    from learnloop.worker import Worker, WorkerSettings, wait_until_idle
    from web import sample

    tmp = tempfile.mkdtemp(prefix="learnloop-shots-")
    url = f"sqlite:///{tmp}/shots.sqlite3"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp})
    services = app.extensions["learnloop"]
    org = sample.seed(
        services.sessions, PASSWORD, store_name="acme", instance_secret=services.instance_secret()
    )
    worker = Worker(app, WorkerSettings(poll_seconds=0.05))  # as `learnloop serve` runs one
    threading.Thread(target=worker.run_forever, daemon=True).start()
    wait_until_idle(app, timeout=60)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    pages = [
        ("sign-in", None, "/sign-in"),
        ("team", "maya@example.com", "/team"),
        ("learner", "maya@example.com", f"/people/{org.people['ann']}"),
        ("review", "maya@example.com", f"/reviews/{org.reviews['chen']}"),
        ("criteria", "maya@example.com", f"/reviews/{org.reviews['ben']}"),
        ("admin", "admin@example.com", "/admin"),
        ("statements", "admin@example.com", "/admin/statements"),
    ]
    os.makedirs(args.out, exist_ok=True)
    chromium = os.environ.get("LEARNLOOP_CHROMIUM") or shutil.which("chromium")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            for width_name, (width, height) in WIDTHS.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height}, device_scale_factor=1
                )
                page = context.new_page()
                signed_in_as = None
                for name, email, path in pages:
                    if email and email != signed_in_as:
                        context.clear_cookies()
                        page.goto(base + "/sign-in")
                        if page.get_by_label("Organisation").count():  # several stores
                            page.get_by_label("Organisation").fill("acme")
                        page.get_by_label("Email").fill(email)
                        page.get_by_label("Password").fill(PASSWORD)
                        page.get_by_role("button", name="Sign in").click()
                        page.wait_for_load_state("networkidle")
                        signed_in_as = email
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = os.path.join(args.out, f"{name}-{width_name}.png")
                    if name == "criteria":
                        write_criteria(page)
                        page.locator("#attach").screenshot(path=target)
                    else:
                        page.screenshot(path=target, full_page=width_name == "desktop")
                    print(target)
                context.close()
            browser.close()
    finally:
        server.shutdown()
        app.extensions["learnloop"].engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def write_criteria(page) -> None:
    """The criteria form as a manager fills it: two criteria, one found by name, 2 of 2."""
    page.get_by_text("Or write one with criteria").click()
    page.get_by_label("Title", exact=True).fill("Ship secure code")
    first = page.locator("fieldset.criterion").nth(0)
    first.get_by_label("Source", exact=True).select_option("code_review")
    first.get_by_label("reviewed", exact=True).check()
    first.get_by_label("commented", exact=True).check()
    first.get_by_label("At least", exact=True).fill("10")
    page.get_by_role("button", name="Add a criterion").click()
    second = page.locator("fieldset.criterion").nth(1)
    second.get_by_label("Source", exact=True).select_option("lms")
    second.get_by_label("passed", exact=True).check()
    second.get_by_label("Activities, found by name").fill("secure")
    found = second.locator(".found label").first
    found.wait_for()
    found.locator("input").check()
    second.get_by_label("Minimum score (%)").fill("80")
    page.get_by_label("a number of them is met:").check()
    page.get_by_label("How many criteria must be met").fill("2")


if __name__ == "__main__":
    main()
