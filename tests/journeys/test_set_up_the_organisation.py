"""Journey 2, Set up the organisation: "An admin imports people and managers, opens a review
cycle, creates the reviews of a team in one step, writes templates, grants a reviewer."

From nothing, as a new company would: the operator makes an empty organisation and its first
admin with the CLI (the README's set-up commands); everything else happens in Chromium through
the pages, following their links: a CSV of 30 people with managers imported (previewed first),
a cycle opened, one manager's team given their reviews, a template written and attached to all
of them, a reviewer granted, the manager invited; the manager follows the one-time link, sets a
password and sees the team; the pages the admin used fit a phone. Names, labels and links are
read from the pages, never from the code.
"""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.journeys.support import sign_in

DATABASES = ("sqlite", "postgresql")
COMPANY = "northwind-journey-2"
ADMIN_EMAIL = "olive.operator@northwind.test"
ADMIN_PASSWORD = "olive-opens-the-organisation"
MANAGER_PASSWORD = "mia-manages-the-platform-team"
CYCLE = ("2027 H1", "2027-01-01", "2027-06-30")
TEMPLATE = "Finish a course in the LMS"


def organisation_csv() -> tuple[str, dict]:
    """30 people: a CEO, three managers, 26 reports split among them (9, 9 and 8)."""
    ceo = ("ceo@northwind.test", "Cam Chief", "")
    managers = [
        ("mia.manager@northwind.test", "Mia Manager", ceo[0]),
        ("noah.manager@northwind.test", "Noah Manager", ceo[0]),
        ("ola.manager@northwind.test", "Ola Manager", ceo[0]),
    ]
    rows = [ceo, *managers]
    for n in range(26):
        manager = managers[n % 3]
        rows.append((f"person{n:02d}@northwind.test", f"Person {n:02d}", manager[0]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "name", "manager_email", "github"])
    for i, (email, name, manager) in enumerate(rows):
        writer.writerow([email, name, manager, f"nw-dev-{i}" if i % 2 else ""])
    team = [name for email, name, manager in rows if manager == managers[0][0]]
    return out.getvalue(), {"manager": managers[0], "reviewer": managers[1], "team": team}


def the_operator_makes_the_organisation(demo) -> None:
    """The README's set-up: an empty store and its first admin, from the command line."""
    printed = demo.learnloop("stores", "create", COMPANY)
    assert COMPANY in printed
    printed = demo.learnloop(
        "accounts", "create", "--store", COMPANY, "--email", ADMIN_EMAIL,
        "--name", "Olive Operator", "--admin",
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    assert "admin" in printed


def go_to(page, menu: str, link: str) -> None:
    page.get_by_role("navigation", name=menu).get_by_role("link", name=link).click()
    page.wait_for_load_state()


def says(page, words: str, exactly: bool = False) -> None:
    """The page's status line says this (waiting for the page the form led to)."""
    status = page.get_by_role("status").first
    if exactly:
        expect(status).to_have_text(words)
    else:
        expect(status).to_contain_text(words)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.fixture(scope="module")
def organisation():
    return organisation_csv()


def test_an_admin_sets_up_the_organisation_and_the_manager_sees_the_team(
    demo, browser, new_page, tmp_path, organisation
):
    text, who = organisation
    manager_email, manager_name, _ = who["manager"]
    reviewer_email, reviewer_name, _ = who["reviewer"]
    the_operator_makes_the_organisation(demo)

    admin = new_page()
    sign_in(admin, demo.printed.sign_in_url, COMPANY, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_to(admin, "Main", "Admin")

    # People: a CSV of 30 people with their managers, previewed, then imported.
    go_to(admin, "Administration", "People")
    admin.get_by_role("link", name="Import people and managers from a CSV file").click()
    admin.wait_for_load_state()
    path = tmp_path / "northwind.csv"
    path.write_text(text)
    admin.get_by_label("CSV file").set_input_files(str(path))
    admin.get_by_role("button", name="Preview").click()
    admin.wait_for_load_state()
    assert "Preview: nothing is saved yet" in admin.inner_text("main")
    assert "30 created, 0 updated, 0 unchanged, 0 rejected." in admin.inner_text("#preview")
    admin.get_by_role("button", name="Import 30 rows").click()
    admin.wait_for_load_state()
    says(admin, "30 created, 0 updated, 0 unchanged, 0 rejected.")
    admin.get_by_role("link", name="See everyone").click()
    admin.wait_for_load_state()
    expect(admin.get_by_role("link", name=manager_name)).to_be_visible()
    assert no_horizontal_scroll(admin)

    # A review cycle.
    go_to(admin, "Administration", "Review cycles")
    name, first, last = CYCLE
    admin.get_by_label("Name").fill(name)
    admin.get_by_label("First day").fill(first)
    admin.get_by_label("Last day").fill(last)
    admin.get_by_role("button", name="Open cycle").click()
    admin.wait_for_load_state()
    says(admin, "Cycle opened")
    cycle_url = admin.url

    # The reviews of Mia's team, in one step.
    admin.get_by_label("Team of").select_option(label=f"{manager_name} ({manager_email})")
    admin.get_by_role("button", name="Create reviews").click()
    admin.wait_for_load_state()
    team_size = len(who["team"])
    says(admin, f"{team_size} reviews created.", exactly=True)
    reviews = admin.locator("#reviews li")
    assert reviews.count() == team_size

    # A template, written with the criteria form, attached to every review of the team.
    go_to(admin, "Administration", "Templates")
    admin.get_by_role("link", name="Write a template").click()
    admin.wait_for_load_state()
    admin.get_by_label("Title").fill(TEMPLATE)
    admin.get_by_label("completed", exact=True).check()
    admin.get_by_role("button", name="Save template").click()
    admin.wait_for_load_state()
    says(admin, TEMPLATE)
    admin.goto(cycle_url)
    admin.get_by_label("Team of").select_option(label=f"{manager_name} ({manager_email})")
    admin.get_by_label("Attach a template to each review").select_option(label=TEMPLATE)
    admin.get_by_role("button", name="Create reviews").click()
    admin.wait_for_load_state()
    says(
        admin,
        f"0 reviews created, {team_size} already there; the template attached to {team_size}.",
        exactly=True,
    )
    assert admin.locator("#reviews li", has_text="1 objective").count() == team_size

    # A reviewer on the first review: Noah, another manager.
    first_review = admin.locator("#reviews li").first
    reviewee = first_review.get_by_role("link").first.inner_text()
    first_review.get_by_role("link", name=re.compile("^Reviewers")).click()
    admin.wait_for_load_state()
    admin.get_by_label("Grant a reviewer").select_option(
        label=f"{reviewer_name} ({reviewer_email})"
    )
    admin.get_by_role("button", name="Grant").click()
    admin.wait_for_load_state()
    says(admin, "Reviewer granted")
    expect(admin.locator(".granted li", has_text=reviewer_name)).to_be_visible()

    # Mia's account: an invitation by one-time link.
    admin.goto(cycle_url)
    go_to(admin, "Administration", "Accounts")
    admin.get_by_label("Work e-mail").fill(manager_email)
    admin.get_by_role("button", name="Invite").click()
    admin.wait_for_load_state()
    link = admin.locator("#link code").inner_text().strip()
    assert link.startswith(demo.base_url + "/")
    assert admin.console_errors == []  # no page broke the Content-Security-Policy

    # Mia follows the link, chooses a password and sees her team with their objectives.
    mia = new_page()
    mia.goto(link)
    assert manager_email in mia.inner_text("main")
    mia.get_by_label("New password").fill(MANAGER_PASSWORD)
    mia.get_by_label("The same password again").fill(MANAGER_PASSWORD)
    mia.get_by_role("button", name="Set password and sign in").click()
    mia.wait_for_load_state()
    assert "/team" in mia.url
    team_page = mia.inner_text("main")
    for name in who["team"]:
        assert name in team_page, name
    assert team_page.count(TEMPLATE) >= team_size
    assert mia.console_errors == []

    # The link worked once; Mia opens a review of her team: the template's objective is there.
    again = new_page()
    assert again.goto(link).status == 404
    card = mia.locator("li.person-row", has_text=reviewee)
    card.get_by_role("link", name=re.compile("^Review")).click()
    mia.wait_for_url("**/reviews/*")
    assert TEMPLATE in mia.inner_text("main")

    the_set_up_pages_fit_a_phone(browser, demo)


def the_set_up_pages_fit_a_phone(browser, demo) -> None:
    """The pages the admin used, at 390 px: no horizontal scroll."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, demo.printed.sign_in_url, COMPANY, ADMIN_EMAIL, ADMIN_PASSWORD)
        go_to(page, "Main", "Admin")
        for link in ("People", "Accounts", "Review cycles", "Templates"):
            go_to(page, "Administration", link)
            assert no_horizontal_scroll(page), link
        go_to(page, "Administration", "Review cycles")
        page.get_by_role("link", name=CYCLE[0]).click()
        page.wait_for_load_state()
        assert no_horizontal_scroll(page)
        reviewers = page.locator("#reviews li").first.get_by_role("link", name=re.compile("^Rev"))
        reviewers.click()
        page.wait_for_load_state()
        assert no_horizontal_scroll(page)
        page.goto(demo.base_url + "/admin/templates/new")
        assert no_horizontal_scroll(page)
    finally:
        context.close()
