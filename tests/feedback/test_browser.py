"""The feedback pages in real headless Chromium (the sample organisation, tests/web/conftest.py):
answering a health check on a phone, writing an after-action review, reading the insights.
"""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe

from feedback import health, settings
from lrs.db import write_transaction
from objectives import accounts
from objectives.models import Review
from tests.web.conftest import page, sign_in, site  # noqa: F401  (the fixtures)
from tests.web.test_accessibility import scan

pytestmark = pytest.mark.browser


def _setup(site, ratings=None):  # noqa: F811
    """k = 3 in the sample's store; ratings on its reviews if given."""
    org = site["org"]
    sessions = site["app"].extensions["learnloop"].sessions
    with site["app"].app_context(), write_transaction(sessions) as db:
        settings.set_k(db, org.store_id, 3, 0)
        for who, rating in (ratings or {}).items():
            db.get(Review, org.reviews[who]).rating = rating
    return org, sessions


def test_a_member_answers_a_squad_health_check_on_a_phone(browser, site):  # noqa: F811
    org, sessions = _setup(site)
    today = dt.datetime.now(dt.UTC).date()
    with site["app"].app_context(), write_transaction(sessions) as db:
        maya = accounts.Viewer(0, org.store_id, org.people["maya"], False)
        data = {
            "kind": "squad",
            "title": "Squad health, phone",
            "opens_on": today,
            "closes_on": today + dt.timedelta(days=7),
        }
        check_id = health.open_check(
            db, maya, data, int(dt.datetime.now(dt.UTC).timestamp() * 1000)
        ).id
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    errors = []
    phone.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        sign_in(phone, site["base"], "ann@example.com")
        phone.goto(site["base"] + "/health-checks")
        phone.get_by_role("link", name="Squad health, phone").click()
        for indicator in ("Easy to release", "Fun", "Learning"):
            group = phone.get_by_role("group", name=indicator)
            group.get_by_label("amber").check()
        for fieldset in phone.locator("fieldset.question").all():
            if not fieldset.locator("input:checked").count():
                fieldset.get_by_label("green").check()
        phone.get_by_role("button", name="Send my answer").click()
        assert phone.get_by_role("status").inner_text().startswith("Thank you")
        assert phone.get_by_text("You have answered this check.").is_visible()
        assert "fewer than" in phone.locator("#no-results").inner_text() or "closed" in (
            phone.locator("#no-results").inner_text()
        )
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        assert errors == []
    finally:
        context.close()
    with sessions() as db:
        assert health.counts(db, check_id) == (4, 1)


def test_a_person_writes_an_after_action_review_and_finds_it(page, site):  # noqa: F811
    _setup(site)
    sign_in(page, site["base"], "ben@example.com")
    page.goto(site["base"] + "/after-action-reviews")
    page.get_by_label("Title").fill("Checkout outage on release 4.2")
    page.get_by_label("When it happened").fill("2026-11-20")
    page.get_by_label("What actually happened").fill("The flag shipped at 100%")
    page.get_by_label("Needs fixin'").fill("Alert on the checkout error rate")
    page.get_by_label("Lessons, one a line").fill("Feature flags need a staged rollout")
    page.get_by_label("My actions, one a line").fill("Learn progressive delivery")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/after-action-reviews/*")
    written = page.url
    assert page.get_by_role("heading", name="Checkout outage on release 4.2").is_visible()
    assert page.get_by_text("Feature flags need a staged rollout").is_visible()
    # Ben is not his own manager: no button for him.
    assert page.get_by_role("button", name="Make this an objective").count() == 0
    page.goto(site["base"] + "/after-action-reviews")
    page.get_by_label("Search reviews and lessons").fill("staged rollout")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name="Checkout outage on release 4.2").is_visible()
    assert page.csp_errors == []

    # His manager makes the action an objective on his review in one click.
    page.context.clear_cookies()
    sign_in(page, site["base"], "maya@example.com")
    page.goto(written)
    page.get_by_role("button", name="Make this an objective on Ben Lindqvist's review").click()
    page.get_by_role("link", name="a learning objective on Ben Lindqvist's review").click()
    assert page.get_by_text("Learn progressive delivery").first.is_visible()
    assert page.url.endswith(f"/reviews/{site['org'].reviews['ben']}")
    assert page.csp_errors == []


def test_an_admin_reads_the_insights_of_the_cycle(page, site):  # noqa: F811
    _setup(site, ratings={"ann": 5, "ben": 4, "chen": 2})
    sign_in(page, site["base"], "admin@example.com")
    page.goto(site["base"] + "/insight")
    assert page.get_by_role("heading", name="Objectives met and review outcome").is_visible()
    assert "(n = 3)" in page.locator("main").inner_text()
    assert page.get_by_role("heading", name="Templates met least often").is_visible()
    assert page.csp_errors == []
    # With its figures and tables, axe-core finds no WCAG 2.1 AA violation, in English and in
    # German (issue 22), where the figures take the locale's decimal comma.
    assert scan(page, Axe()) == []
    page.set_extra_http_headers({"Accept-Language": "de"})
    page.goto(site["base"] + "/insight")
    heading = "Erreichte Ziele und Ergebnis der Beurteilung"
    assert page.get_by_role("heading", name=heading).is_visible()
    assert "(n = 3)" in page.locator("main").inner_text()
    assert scan(page, Axe()) == []
