"""Journey 7, Review as a reviewer: "A reviewer granted one review lands on it and reads the
learner's record, and nothing else."

The printed sample admin creates the reviewer's account with `learnloop accounts create`,
grants one review through /api, and opens a second review of the same learner in a later cycle
that the reviewer is not granted; the reviewer then uses the pages (Chromium) and /api.
"""

import re
from urllib.parse import urlsplit

import pytest

from tests.journeys.support import Api, printed_admin, sign_in

REVIEWER_EMAIL = "riley.reviewer@example.com"
REVIEWER_NAME = "Riley Reviewer"
REVIEWER_PASSWORD = "riley-reads-reviews-carefully"
LATER_CYCLE = {"name": "Next half (journey 7)", "starts_on": "2099-01-01", "ends_on": "2099-06-30"}


# ---- the admin's steps -------------------------------------------------------------------


def create_the_reviewers_account(demo) -> int:
    """`learnloop accounts create` asks for the password twice; returns the printed person id."""
    printed = demo.learnloop(
        "accounts",
        "create",
        "--store",
        demo.printed.organisation,
        "--email",
        REVIEWER_EMAIL,
        "--name",
        REVIEWER_NAME,
        input=f"{REVIEWER_PASSWORD}\n{REVIEWER_PASSWORD}\n",
    )
    person = re.search(rf"account \d+ for {re.escape(REVIEWER_EMAIL)} \(person (\d+)\)", printed)
    assert person, printed
    return int(person.group(1))


def choose_a_review_with_a_learning_record(admin: Api) -> dict:
    """A review nobody reviews yet, of someone whose record has learning in it."""
    for review in admin.get("/api/reviews").json():
        record = admin.get(f"/api/people/{review['person_id']}/record").json()
        if not review["reviewer_ids"] and record["total"] > 0:
            return review
    raise AssertionError("the sample organisation has no unreviewed review with a record")


def grant_the_review(admin: Api, review: dict, reviewer_id: int) -> None:
    response = admin.patch(
        f"/api/reviews/{review['id']}", {"reviewer_ids": [*review["reviewer_ids"], reviewer_id]}
    )
    assert response.status_code == 200, response.text
    assert reviewer_id in response.json()["reviewer_ids"]


def open_a_later_review_of_the_same_learner(admin: Api, review: dict) -> dict:
    """A review the reviewer is not granted: the same learner, a later cycle, one objective."""
    cycle = admin.post("/api/cycles", LATER_CYCLE)
    assert cycle.status_code == 201, cycle.text
    later = admin.post(
        "/api/reviews", {"cycle_id": cycle.json()["id"], "person_id": review["person_id"]}
    )
    assert later.status_code == 201, later.text
    template = admin.get("/api/templates").json()[0]
    attached = admin.post(
        f"/api/reviews/{later.json()['id']}/objectives", {"template_id": template["id"]}
    )
    assert attached.status_code == 201, attached.text
    return later.json()


def administration_pages(page) -> list[str]:
    """The links of the admin's Administration menu, as the admin sees them."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.wait_for_load_state()
    menu = page.get_by_role("navigation", name="Administration").get_by_role("link")
    paths = [urlsplit(menu.nth(i).get_attribute("href")).path for i in range(menu.count())]
    assert paths, "the admin sees no administration pages"
    return paths


# ---- the reviewer's steps ----------------------------------------------------------------


def open_the_learners_record(page, learner_name: str) -> None:
    page.get_by_role("main").get_by_role("link", name=learner_name).click()
    page.wait_for_load_state()


def status_of_page(page, base_url: str, path: str) -> int:
    response = page.goto(base_url + path)
    return response.status


# ---- the journey -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def granted(demo):
    """The sample admin creates the reviewer's account and grants them one review."""
    reviewer_id = create_the_reviewers_account(demo)
    admin = Api(
        demo.base_url, demo.printed.organisation, printed_admin(demo), demo.printed.password
    )
    try:
        review = choose_a_review_with_a_learning_record(admin)
        grant_the_review(admin, review, reviewer_id)
        later = open_a_later_review_of_the_same_learner(admin, review)
        seen_by_admin = {
            "reviews": admin.get("/api/reviews").json(),
            "people": admin.get("/api/people").json(),
            "cycles": admin.get("/api/cycles").json(),
            "record": admin.get(f"/api/people/{review['person_id']}/record").json(),
        }
    finally:
        admin.close()
    return {"review": review, "later": later, "reviewer_id": reviewer_id, **seen_by_admin}


@pytest.mark.browser
def test_reviewer_lands_on_the_granted_review_and_reads_the_learners_record(
    demo, granted, new_page
):
    """Signs in, lands on the review, follows the learner's name to their record."""
    review, printed = granted["review"], demo.printed
    page = new_page()

    sign_in(page, printed.sign_in_url, printed.organisation, REVIEWER_EMAIL, REVIEWER_PASSWORD)
    assert urlsplit(page.url).path == f"/reviews/{review['id']}", (
        f"the reviewer landed on {page.url}, not on the review granted to them"
    )
    assert page.get_by_role("heading", name=f"Review of {review['person_name']}").is_visible()

    open_the_learners_record(page, review["person_name"])
    assert urlsplit(page.url).path == f"/people/{review['person_id']}"
    assert page.get_by_role("heading", name=review["person_name"], level=1).is_visible(), (
        f"the reviewer cannot read the learner's record: {page.title()}"
    )
    total = granted["record"]["total"]
    assert page.get_by_text(re.compile(rf"^{total} learning events? recorded")).is_visible()
    assert page.get_by_text(LATER_CYCLE["name"]).count() == 0, (
        "the record shows objectives of a review the reviewer was not granted"
    )
    assert page.console_errors == []


def test_reviewer_reads_the_same_record_through_the_api(demo, granted):
    """The review and the learner's record answer the reviewer's bearer token, in full."""
    review, printed = granted["review"], demo.printed
    reviewer = Api(demo.base_url, printed.organisation, REVIEWER_EMAIL, REVIEWER_PASSWORD)
    try:
        assert reviewer.get(f"/api/reviews/{review['id']}").status_code == 200
        record = reviewer.get(f"/api/people/{review['person_id']}/record")
        assert record.status_code == 200, record.text
        assert record.json()["total"] == granted["record"]["total"]
    finally:
        reviewer.close()


def test_reviewer_reaches_nothing_else_through_the_api(demo, granted):
    """Other reviews (the same learner's included), people, records and teams: 404 or empty."""
    review, printed = granted["review"], demo.printed
    reviewer = Api(demo.base_url, printed.organisation, REVIEWER_EMAIL, REVIEWER_PASSWORD)
    try:
        assert [r["id"] for r in reviewer.get("/api/reviews").json()] == [review["id"]]
        assert reviewer.get(f"/api/reviews/{granted['later']['id']}").status_code == 404
        for other in granted["reviews"]:
            if other["id"] != review["id"]:
                assert reviewer.get(f"/api/reviews/{other['id']}").status_code == 404
        for person in granted["people"]:
            if person["id"] not in (review["person_id"], granted["reviewer_id"]):
                assert reviewer.get(f"/api/people/{person['id']}").status_code == 404
                assert reviewer.get(f"/api/people/{person['id']}/record").status_code == 404
        for cycle in granted["cycles"]:
            rows = reviewer.get(f"/api/cycles/{cycle['id']}/team").json()
            assert {row["review"]["id"] for row in rows} <= {review["id"]}
        assert reviewer.get("/api/templates").status_code in (403, 404)
    finally:
        reviewer.close()


@pytest.mark.browser
def test_reviewer_reaches_nothing_else_on_the_pages(demo, granted, new_page):
    """Other reviews and people answer 404, the admin's pages 403, and no Admin menu shows."""
    review, printed = granted["review"], demo.printed
    admin_page = new_page()
    sign_in(
        admin_page, printed.sign_in_url, printed.organisation, printed_admin(demo), printed.password
    )
    admin_only = administration_pages(admin_page)

    page = new_page()
    sign_in(page, printed.sign_in_url, printed.organisation, REVIEWER_EMAIL, REVIEWER_PASSWORD)
    main_menu = page.get_by_role("navigation", name="Main")
    assert main_menu.get_by_role("link", name="Admin").count() == 0

    for other in granted["reviews"]:
        if other["id"] != review["id"]:
            assert status_of_page(page, demo.base_url, f"/reviews/{other['id']}") == 404
    for person in granted["people"]:
        if person["id"] not in (review["person_id"], granted["reviewer_id"]):
            assert status_of_page(page, demo.base_url, f"/people/{person['id']}") == 404
    for path in admin_only:
        assert status_of_page(page, demo.base_url, path) in (403, 404), path
