"""The feedback pages through the Flask test client, signed in as a person would be: mentoring
(log a session, the other side confirms it) and the after-action review's one-step objective
refused to someone who does not manage the action's owner."""

import datetime as dt
import html
import re

from sqlalchemy import select

from lrs.db import read_transaction
from notifications import render
from objectives.accounts import session_fields
from objectives.models import Account
from tests.feedback.conftest import cycle_around_today, open_squad_check, review_in, set_k, today

CSRF = "csrf-of-the-test"


def signed_in(org, who: str):
    """A browser of ``who``'s: their sign-in cookie and a CSRF token, as the pages set them."""
    client = org.app.test_client()
    with read_transaction(org.app.extensions["learnloop"].sessions) as db:
        account = db.scalar(
            select(Account).where(
                Account.store_id == org.store_id, Account.email == f"{who}@example.com"
            )
        )
        fields = session_fields(account, dt.datetime.now(dt.UTC))
    with client.session_transaction() as cookie:
        cookie.update(fields)
        cookie["csrf"] = CSRF
    return client


def text(response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def test_a_mentee_logs_a_session_on_the_page_and_the_mentor_confirms_it_there(org):
    pair = org.client("admin").post(
        "/mentoring/pairs", json={"mentor_id": org.people["maya"], "mentee_id": org.people["cora"]}
    )
    assert pair.status_code == 201, pair.get_json()
    pair_id = pair.get_json()["id"]
    cora, maya, ben = signed_in(org, "cora"), signed_in(org, "maya"), signed_in(org, "ben")

    page = cora.get("/mentoring")
    assert page.status_code == 200
    assert "Maya mentors Cora" in text(page) and "No sessions yet." in text(page)
    assert "You are in no mentoring pair" in text(ben.get("/mentoring"))

    form = {"csrf_token": CSRF, "held_on": today().isoformat(), "minutes": "45"}
    refused = cora.post(f"/mentoring/pairs/{pair_id}/sessions", data={**form, "topic": ""})
    assert refused.status_code == 400 and "topic" in text(refused)
    no_csrf = cora.post(f"/mentoring/pairs/{pair_id}/sessions", data={**form, "csrf_token": "x"})
    assert no_csrf.status_code in (400, 403)
    strangers = ben.post(f"/mentoring/pairs/{pair_id}/sessions", data={**form, "topic": "x"})
    assert strangers.status_code == 404
    logged = cora.post(f"/mentoring/pairs/{pair_id}/sessions", data={**form, "topic": "Careers"})
    assert logged.status_code == 200 and "once the other side confirms it" in text(logged)
    assert "waiting for Maya" in text(logged)
    assert "Confirm “Careers”" not in text(logged)  # who logged it does not confirm it

    [row] = org.client("cora").get("/mentoring/pairs").get_json()[0]["sessions"]
    assert not row["confirmed"]
    waiting = maya.get("/mentoring")
    assert "Waiting for your confirmation" in text(waiting) and "Confirm “Careers”" in text(waiting)
    assert (
        cora.post(
            f"/mentoring/sessions/{row['id']}/confirmation", data={"csrf_token": CSRF}
        ).status_code
        == 403
    )
    confirmed = maya.post(
        f"/mentoring/sessions/{row['id']}/confirmation", data={"csrf_token": CSRF}
    )
    assert confirmed.status_code == 200 and "now counts for both of you" in text(confirmed)
    assert org.client("cora").get("/mentoring/pairs").get_json()[0]["sessions"][0]["confirmed"]
    again = maya.post(f"/mentoring/sessions/{row['id']}/confirmation", data={"csrf_token": CSRF})
    assert again.status_code == 409 and "confirmed already" in text(again)


def test_only_a_manager_of_the_owner_makes_an_action_an_objective_on_the_page(org):
    cycle = cycle_around_today(org)
    ann_review = review_in(org, cycle, "ann")
    aar = (
        org.client("ann")
        .post(
            "/after-action-reviews",
            json={
                "title": "Flaky deploys",
                "occurred_on": today().isoformat(),
                "actions": [{"text": "Learn canary analysis", "owner_id": org.people["ann"]}],
            },
        )
        .get_json()
    )
    action = aar["actions"][0]["id"]
    path = f"/after-action-reviews/{aar['id']}/actions/{action}/objective"
    nick, maya = signed_in(org, "nick"), signed_in(org, "maya")
    assert "Make this an objective" not in text(nick.get(f"/after-action-reviews/{aar['id']}"))
    assert nick.post(path, data={"csrf_token": CSRF}).status_code in (403, 404)
    assert maya.post(path, data={}).status_code in (400, 403)  # no CSRF token
    assert org.client("maya").get(f"/reviews/{ann_review}").get_json()["objectives"] == []

    page = maya.get(f"/after-action-reviews/{aar['id']}")
    assert "Make this an objective on Ann's review" in text(page)
    made = maya.post(path, data={"csrf_token": CSRF})
    assert made.status_code == 303 and made.location.endswith(f"#action-{action}")
    shown = maya.get(f"/after-action-reviews/{aar['id']}").get_data(as_text=True)
    assert f'href="/reviews/{ann_review}"' in shown
    [objective] = org.client("maya").get(f"/reviews/{ann_review}").get_json()["objectives"]
    assert objective["title"] == "Learn canary analysis"
    again = maya.post(path, data={"csrf_token": CSRF})
    assert again.status_code == 409 and "already objective" in text(again)


def test_members_find_the_health_check_and_participants_the_review_in_their_inbox(org):
    set_k(org, 3)
    check = open_squad_check(org, title="Squad health, week 49")  # the client drains the worker
    published = org.client("ben").post(
        "/after-action-reviews",
        json={
            "title": "Search outage",
            "occurred_on": today().isoformat(),
            "participant_ids": [org.people["ann"]],
        },
    )
    assert published.status_code == 201, published.get_json()
    ann, ben, maya, cora = (signed_in(org, w) for w in ("ann", "ben", "maya", "cora"))
    inbox = text(ann.get("/notifications"))
    assert "Health check awaiting you: Squad health, week 49" in inbox
    assert "After-action review awaiting you: Search outage" in inbox
    assert f'href="/health-checks/{check["id"]}"' in ann.get("/notifications").get_data(True)
    assert "Health check awaiting you" in text(ben.get("/notifications"))
    assert "After-action review awaiting you" not in text(ben.get("/notifications"))  # the author
    assert "awaiting you" not in text(maya.get("/notifications"))  # who opened the check
    assert "awaiting you" not in text(cora.get("/notifications"))  # another team
    # Told at once by e-mail too (when SMTP is set up): both kinds have their two templates.
    for kind, data in (
        ("health_check.opened", {"title": "Squad health", "by": "Maya", "closes_on": "2026-12-09"}),
        ("aar.published", {"title": "Search outage", "by": "Ben"}),
    ):
        mail = render.letter(
            kind,
            "awaiting you",
            {"data": data, "url": "http://learnloop.test/x"},
            name="Ann",
            address="ann@example.com",
            store_id=org.store_id,
            person_id=org.people["ann"],
            base_url="http://learnloop.test",
            secret="s" * 32,
        )
        assert data["title"] in mail.text and data["title"] in mail.html, kind
        assert "http://learnloop.test/x" in mail.text, kind


def test_a_manager_rates_a_review_on_its_page_and_the_api_shows_and_edits_the_rating(org):
    review = org.reviews["ann"]
    maya = signed_in(org, "maya")
    assert org.client("maya").get(f"/reviews/{review}").get_json()["rating"] is None
    page = maya.get(f"/reviews/{review}").get_data(as_text=True)
    assert 'name="rating"' in page and "not rated yet" in page
    form = {"csrf_token": CSRF, "manager_comment": "Good half", "status": "in_progress"}
    assert maya.post(f"/reviews/{review}/comments", data={**form, "rating": "4"}).status_code == 302
    assert org.client("ann").get(f"/reviews/{review}").get_json()["rating"] == 4
    assert '<option value="4" selected>' in maya.get(f"/reviews/{review}").get_data(as_text=True)
    assert maya.post(f"/reviews/{review}/comments", data={**form, "rating": "9"}).status_code == 400

    patched = org.client("maya").patch(f"/reviews/{review}", json={"rating": None})
    assert patched.status_code == 200 and patched.get_json()["rating"] is None
    assert org.client("ann").patch(f"/reviews/{review}", json={"rating": 5}).status_code == 403
    assert org.client("maya").patch(f"/reviews/{review}", json={"rating": 0}).status_code == 400
    assert (
        org.client("maya").patch(f"/reviews/{review}", json={"rating": 3}).get_json()["rating"] == 3
    )
    listed = {r["id"]: r["rating"] for r in org.client("maya").get("/reviews").get_json()}
    assert listed[review] == 3
