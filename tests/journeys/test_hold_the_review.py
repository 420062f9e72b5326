"""Journey 6, Hold the review: "A manager opens a report's review: per criterion "6 of 15", named
evidence with dates and sources, "met on" the day it was met, suggestions for what to do next;
attaches or edits an objective with pickers, not IRIs; prints or exports it for the meeting."

The manager is whichever printed account /api/me says manages people; what the pages must show
is read from /api (the team's progress, each objective's criteria, counts and "satisfied_at")
and /api/vocabulary (the names of sources, verbs and types). Nothing comes from the code.
"""

import csv
import io
import re
import time

import pytest

from tests.journeys.support import Api, sign_in


@pytest.fixture(scope="module")
def manager(demo):
    """The printed account that manages a team (and is not an admin), with its API session."""
    for email in demo.printed.accounts:
        api = Api(demo.base_url, demo.printed.organisation, email, demo.printed.password)
        me = api.get("/api/me").json()
        if me["is_manager"] and not me["is_admin"]:
            api.email = email
            yield api
            api.close()
            return
        api.close()
    raise AssertionError(f"no printed account manages anyone: {demo.printed.accounts}")


def the_review_to_hold(manager: Api) -> dict:
    """A report's review with a met objective, as /api reports it once the worker has counted
    the sample's statements (the demo seeds them as it starts; the worker counts them after)."""
    deadline = time.monotonic() + 30
    while True:
        for cycle in manager.get("/api/cycles").json():
            team = manager.get(f"/api/cycles/{cycle['id']}/team")
            counted = (
                not team.json()
                or not manager.get(f"/api/reviews/{team.json()[0]['review']['id']}").json()[
                    "progress"
                ]["uncounted_statements"]
            )
            for row in team.json():
                if counted and any(o["met"] and o["satisfied_at"] for o in row["objectives"]):
                    return row
        if time.monotonic() > deadline:
            raise AssertionError("nobody in the manager's team has met an objective")
        time.sleep(0.2)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_holds_a_review_with_counts_named_evidence_and_pickers(
    demo, manager, browser, width
):
    vocabulary = manager.get("/api/vocabulary").json()
    source_names = [s["name"] for s in vocabulary["sources"]]
    row = the_review_to_hold(manager)
    person = row["person"]["name"]

    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    sign_in(
        page,
        demo.printed.sign_in_url,
        demo.printed.organisation,
        manager.email,
        demo.printed.password,
    )
    page.wait_for_url("**/team**")
    team_row = page.locator("li.person-row", has_text=person)
    for objective in row["objectives"]:
        line = team_row.locator("ul.objectives li", has_text=objective["title"])
        assert line.locator(".counts").inner_text() == objective["progress_text"]
    assert (
        re.fullmatch(r"\d+ of \d+", row["objectives"][0]["progress_text"])
        or "criteria" in (row["objectives"][0]["progress_text"])
    )
    assert no_horizontal_scroll(page)

    team_row.get_by_role("link", name=re.compile("^Review")).click()
    page.wait_for_url("**/reviews/**")
    review_id = int(page.url.rsplit("/", 1)[-1].split("#")[0])
    review = manager.get(f"/api/reviews/{review_id}").json()
    for objective in review["objectives"]:
        article = page.locator("article.objective", has_text=objective["title"])
        shown = article.locator(".criteria .counts-of").all_inner_texts()
        assert shown == [f"{c['count']} of {c['required']}" for c in objective["criteria"]]
        if objective["met"]:  # "met on" the day the deciding evidence happened
            assert f"Met on {objective['satisfied_at'][:10]}" in article.locator(".ok").inner_text()
        for evidence in article.locator("table.evidence tbody tr").all():
            date, activity, verb, source, _ = evidence.locator("td").all_inner_texts()
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", date)
            assert activity and verb and not verb.startswith("http")
            assert any(name.startswith(source) for name in source_names), source

    paths = page.locator("details.suggestions")
    paths.locator("summary").click()
    assert re.search(r"\d+ (person|people), \d+ times?", paths.locator("li").first.inner_text())

    # Attach an objective with the pickers, by names from the vocabulary, not IRIs.
    source = next(s for s in vocabulary["sources"] if s["id"] == "code_review")
    verb = next(v for v in vocabulary["verbs"] if source["id"] in v["sources"])
    kind = next(t for t in vocabulary["activity_types"] if source["id"] in t["sources"])
    page.get_by_text("Or write one with criteria").click()
    title = f"Review three more changes ({width} px)"
    page.get_by_label("Title", exact=True).fill(title)
    criterion = page.locator("fieldset.criterion").first
    criterion.get_by_label("Source", exact=True).select_option(label=source["name"])
    criterion.get_by_label(verb["name"], exact=True).check()
    criterion.get_by_label("Activity type", exact=True).select_option(label=kind["name"])
    criterion.get_by_label("At least", exact=True).fill("3")
    page.get_by_role("button", name="Attach objective").click()
    attached = page.locator("article.objective", has_text=title)
    attached.wait_for()
    described = attached.locator(".criteria .description").inner_text()
    assert verb["name"] in described and "http" not in described
    [created] = [
        o
        for o in manager.get(f"/api/reviews/{review_id}").json()["objectives"]
        if o["title"] == title
    ]
    assert created["criteria"][0]["definition"]["verbs"] == [verb["id"]]
    assert no_horizontal_scroll(page)

    # For the meeting: the export, and the page as printed (no navigation, no forms).
    export = page.get_by_role("link", name="Export as CSV").get_attribute("href")
    answer = page.request.get(demo.base_url + export)
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text())))
    assert {r["objective"] for r in rows} >= {o["title"] for o in review["objectives"]}
    assert all(r["person"] == person for r in rows)
    page.emulate_media(media="print")
    assert page.get_by_role("navigation", name="Main").is_hidden()
    assert page.locator("#attach").is_hidden()
    assert page.locator("article.objective").first.is_visible()
    page.emulate_media(media="screen")

    attached.get_by_text("Remove objective…").click()
    attached.get_by_role("button", name="Yes, remove objective").click()
    page.wait_for_load_state()
    assert page.locator("article.objective", has_text=title).count() == 0
    assert not errors, errors
    context.close()
