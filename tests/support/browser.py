"""Headless Debian Chromium for the browser tests, through Playwright's Python package.

The system's ``chromium`` (LEARNLOOP_CHROMIUM overrides the path), never a downloaded browser;
``scripts/test`` installs it with apt-get when missing.
"""

import os
import shutil
from contextlib import contextmanager


def chromium_path() -> str:
    path = (
        os.environ.get("LEARNLOOP_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError(
            "Debian's chromium is required for the browser tests (apt-get install chromium); "
            "scripts/test installs it"
        )
    return path


@contextmanager
def chromium():
    """A headless Chromium; Playwright's sync API allows one per thread at a time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
