"""Every main page scanned by axe-core in Chromium (issue 22): WCAG 2.0 and 2.1, levels A and AA.

One browser context per role and width (signed out, learner, manager, administrator; a desktop
and a phone), visiting that role's pages in turn: 0 violations on each. axe-core is the copy
the ``axe-playwright-python`` wheel carries (installed from PyPI by ``scripts/test``; nothing is
downloaded while the tests run). docs/accessibility.md reports what this covers.
"""

import datetime as dt
import time

import pytest
from axe_playwright_python.sync_playwright import Axe

from feedback import mentoring
from lrs.db import write_transaction
from objectives.accounts import Viewer
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": 1280, "phone": 390}


def pages_of(role: str, org) -> list[str]:
    """The pages each role works with, data-filled (Ann, Chen) and empty (the administrator
    is no person: no record, no kudos)."""
    people, reviews = org.people, org.reviews
    if role == "signed out":
        return ["/sign-in", "/unsubscribe/not-a-token"]  # the second: an error page
    if role == "learner":
        return [
            "/team",
            f"/people/{people['ann']}",
            f"/reviews/{reviews['ann']}",
            "/kudos",
            "/leaderboard",
            "/health-checks",
            "/after-action-reviews",
            ("act", "/mentoring", with_a_pair),
            "/notifications",
            "/notifications/preferences",
            "/account/api-token",
            "/people/999999",  # an error page
            ("act", "/after-action-reviews", refused_review),  # a form in its error state
            ("act", "/after-action-reviews", published_review),  # an after-action review
            ("follow", f"/people/{people['ann']}", ".timeline a[href*='/statements/']"),
            (
                "attr",
                f"/reviews/{reviews['ann']}",
                "article.objective[data-objective]",
                "data-objective",
                "/objectives/{}/criteria/1/evidence",
            ),
        ]
    if role == "manager":
        return [
            "/team",
            f"/people/{people['chen']}",
            f"/reviews/{reviews['chen']}",
            f"/admin/reviews/{reviews['chen']}/reviewers",
            "/insight",
            "/kudos",
        ]
    return [
        "/admin",
        "/admin/statements",
        "/admin/people",
        f"/admin/people/{people['ann']}",
        "/admin/people/import",
        "/admin/accounts",
        "/admin/cycles",
        "/admin/templates",
        "/admin/templates/new",
        "/admin/lti",
        "/admin/connectors",
        "/admin/audit",
        "/admin/forwarding",
        "/admin/webhooks",
        "/admin/notifications",
        "/admin/recognition",
        "/admin/retention",
        "/admin/scim",
        "/admin/sign-in",
        "/kudos",
        f"/admin/people/{people['ann']}/erase",
        ("follow", "/admin/cycles", "main a[href*='/admin/cycles/']"),
        ("follow", "/admin/templates", "main a[href^='/admin/templates/']:not([href$='/new'])"),
        ("follow", "/admin/lti", "a[href*='/admin/lti/registrations/']"),
    ]


@pytest.fixture(scope="module")
def mentoring_pair(site):
    """Ben mentors Ann, with one session logged: the mentoring page with a pair, its sessions
    and the form to log the next one (the sample organisation has no pairs)."""
    org = site["org"]
    admin = Viewer(0, org.store_id, None, True)
    now_ms = int(time.time() * 1000)
    with write_transaction(site["app"].extensions["learnloop"].sessions) as db:
        pair = mentoring.create_pair(db, admin, org.people["ben"], org.people["ann"], now_ms)
        mentor = Viewer(0, org.store_id, org.people["ben"], False)
        mentoring.log_session(
            db,
            mentor,
            pair.id,
            {"held_on": dt.date(2026, 11, 30), "minutes": 30, "topic": "Canary releases"},
            now_ms,
        )
    return pair.id


ACCOUNTS = {
    "learner": "ann@example.com",
    "manager": "maya@example.com",
    "admin": "admin@example.com",
}


def with_a_pair(page) -> None:
    """The mentoring page shows Ann's pair (``mentoring_pair``): Ben's session to confirm and
    the form to log the next one."""
    assert page.locator("input[id^='f-topic-']").count() == 1
    assert page.get_by_role("button", name="Confirm “Canary releases”").count() == 1


def refused_review(page) -> None:
    """Publish an after-action review with no title or date (the browser's own check off, as
    with a script-less client): the form comes back with its errors."""
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert page.locator(".field-error").count() >= 1


def published_review(page) -> None:
    """Publish one: the after-action review's own page."""
    page.locator("#f-title").fill("Release rollback")
    page.locator("#f-occurred_on").fill("2026-11-30")
    page.locator("#f-lessons").fill("Canary first.")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())
    page.wait_for_load_state()


def visit(page, base: str, step) -> None:
    """Open a page: a path, or one reached from another page (the first link a selector finds,
    or a path made from an attribute) for pages whose address holds an id, or the page an
    action on another page leads to (a form sent)."""
    if isinstance(step, str):
        page.goto(base + step)
        return
    kind, start, selector, *rest = step
    page.goto(base + start)
    if kind == "act":
        selector(page)
        return
    found = page.locator(selector).first
    if kind == "follow":
        target = found.get_attribute("href")
    else:
        attribute, template = rest
        target = template.format(found.get_attribute(attribute))
    page.goto(target if target.startswith("http") else base + target)
    assert page.url != base + start, step


def scan(page, axe: Axe) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, one line per rule and element."""
    if page.locator("[data-chart]:not([hidden] [data-chart])").count():
        page.wait_for_selector("[data-chart][data-drawn=true]", timeout=5000)
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']}: {node['target']} {node['html'][:160]}"
        for v in results.response["violations"]
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["signed out", "learner", "manager", "admin"])
def test_every_main_page_has_no_wcag_21_aa_violation(browser, site, role, width, mentoring_pair):
    context = browser.new_context(
        viewport={"width": WIDTHS[width], "height": 900}, is_mobile=width == "phone"
    )
    page = context.new_page()
    if role != "signed out":
        sign_in(page, site["base"], ACCOUNTS[role])
    axe = Axe()
    violations, visited = [], []
    for step in pages_of(role, site["org"]):
        visit(page, site["base"], step)
        visited.append((page.url, page.title()))
        violations += scan(page, axe)
    context.close()
    assert violations == [], "\n".join(violations)
    assert len(visited) == len(pages_of(role, site["org"]))


def test_the_scan_finds_a_violation(browser, site):
    """The scan can fail: an image without a text alternative and grey-on-grey text are found."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(site["base"] + "/sign-in")
    page.evaluate(
        """() => {
          const img = document.createElement('img');
          img.src = '/static/favicon.svg';
          document.querySelector('main').append(img);
          const p = document.createElement('p');
          p.textContent = 'faint';
          p.style.color = '#ccc';
          document.querySelector('main').append(p);
        }"""
    )
    found = " ".join(scan(page, Axe()))
    context.close()
    assert "image-alt" in found and "color-contrast" in found
