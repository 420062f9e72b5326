"""The main tasks with the keyboard alone (issue 22, WCAG 2.1.1 and 2.4.7): a manager attaches an
objective from a template, a learner gives kudos, a lead opens a health check and a member
answers it. Only Tab, Space, Enter and typing move through the pages, and every element the
focus lands on shows it (a visible outline).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.web.conftest import sign_in
from tests.web.test_accessibility import scan

pytestmark = pytest.mark.browser

FOCUS_STATE = """(selector) => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  return {
    match: e !== document.body && e.matches(selector),
    visible: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
      || s.boxShadow !== 'none',
    html: e.outerHTML.slice(0, 120),
  };
}"""


class Keyboard:
    """Tab through a page as a keyboard user does, noting any focus that does not show."""

    def __init__(self, page):
        self.page = page
        self.unseen: list[str] = []

    def tab_to(self, selector: str, limit: int = 150) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            state = self.page.evaluate(FOCUS_STATE, selector)
            if not state["visible"]:
                self.unseen.append(f"{self.page.url}: {state['html']}")
            if state["match"]:
                return
        raise AssertionError(f"Tab never reaches {selector} on {self.page.url}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)


@pytest.fixture
def keyboard(browser):
    contexts = []

    def open_as(site, email):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        sign_in(page, site["base"], email)
        return Keyboard(page)

    yield open_as
    for context in contexts:
        context.close()


def test_a_manager_attaches_an_objective_from_a_template_by_keyboard(site, keyboard):
    keys = keyboard(site, "maya@example.com")
    page = keys.page
    page.goto(site["base"] + f"/reviews/{site['org'].reviews['ben']}")
    before = page.locator("article.objective").count()
    keys.tab_to("select#template_id")
    keys.type("Complete Secure")  # a focused list picks the option its first letters name
    assert (
        page.locator("select#template_id")
        .evaluate("s => s.options[s.selectedIndex].text")
        .startswith("Complete Secure Coding")
    )
    keys.tab_to("form.from-template button[type=submit]")
    with page.expect_navigation():
        keys.press("Enter")
    assert page.locator("article.objective").count() == before + 1
    assert page.locator("article.objective", has_text="Complete Secure Coding").count()
    assert keys.unseen == []


def test_a_learner_gives_kudos_by_keyboard(site, keyboard):
    keys = keyboard(site, "ann@example.com")
    page = keys.page
    page.goto(site["base"] + "/kudos")
    left = int(page.locator("#allowance-left").inner_text())
    keys.tab_to("#f-q")
    keys.type("Chen")
    with page.expect_navigation():
        keys.press("Enter")
    keys.tab_to("input[name=receiver_id]")  # the only match is chosen already
    keys.tab_to("#f-points")
    keys.type("3")
    keys.tab_to("#f-message")
    keys.type("Thanks for the careful review")
    keys.tab_to("form[method=post] button[type=submit]")
    with page.expect_navigation():
        keys.press("Enter")
    assert int(page.locator("#allowance-left").inner_text()) == left - 3
    assert page.get_by_role("cell", name="Thanks for the careful review").count()
    assert keys.unseen == []


def test_a_lead_opens_a_health_check_and_a_member_answers_it_by_keyboard(site, keyboard):
    from feedback.settings import set_k
    from lrs.db import write_transaction

    with write_transaction(site["app"].extensions["learnloop"].sessions) as session:
        set_k(session, site["org"].store_id, 3, 0)  # Maya's team of four can have results
    lead = keyboard(site, "maya@example.com")
    lead.page.goto(site["base"] + "/health-checks")
    lead.tab_to("#f-title")
    lead.type("Keyboard sprint")
    lead.tab_to("#open-title ~ form button[type=submit]")
    with lead.page.expect_navigation():
        lead.press("Enter")
    assert lead.page.get_by_role("heading", name="Keyboard sprint", level=1).is_visible(), (
        lead.page.locator("main").inner_text()
    )
    assert lead.unseen == []
    assert scan(lead.page, Axe()) == []  # the open check's page, axe-core as everywhere

    member = keyboard(site, "ann@example.com")
    page = member.page
    page.goto(site["base"] + "/health-checks")
    href = page.get_by_role("link", name="Keyboard sprint").get_attribute("href")
    member.tab_to(f'a[href="{href}"]')
    with page.expect_navigation():
        member.press("Enter")
    questions = page.locator("fieldset.question").count()
    assert questions > 0
    for number in range(questions):
        member.tab_to(f"fieldset.question:nth-of-type({number + 1}) input[type=radio]")
        member.press("Space")  # the first colour of the group
    member.tab_to("form.answer button[type=submit]")
    with page.expect_navigation():
        member.press("Enter")
    assert page.get_by_text("You have answered this check.").is_visible()
    assert member.unseen == []
    assert scan(page, Axe()) == []
