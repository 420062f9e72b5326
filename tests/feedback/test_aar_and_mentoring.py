"""After-action reviews (published, searchable, statements, action -> objective in one step,
lessons reused) and mentoring (a session counts once the other side confirms it)."""

from lrs import vocabulary as v
from tests.feedback.conftest import cycle_around_today, review_in, today
from tests.feedback.test_profile import feedback_templates
from tests.recognition.conftest import conforms, xapi_client

AAR = {
    "title": "Checkout outage on release 4.2",
    "occurred_on": "2026-11-20",
    "expected": "A canary release at 5% of traffic",
    "happened": "The flag shipped at 100%: checkout failed for 40 minutes",
    "went_well": "Rollback took 6 minutes once noticed",
    "went_badly": "No alert on checkout errors",
    "to_fix": "Alert on the checkout error rate",
    "links": [{"url": "https://github.com/acme/app/pull/812", "label": "the fix"}],
    "lessons": ["Feature flags need a staged rollout plan"],
}


def test_an_after_action_review_is_published_with_statements_and_its_action_becomes_an_objective(
    org,
):
    cycle = cycle_around_today(org)
    ann_review = review_in(org, cycle, "ann")
    body = {
        **AAR,
        "participant_ids": [org.people["ben"]],
        "actions": [{"text": "Learn alerting with Prometheus", "owner_id": org.people["ann"]}],
    }
    published = org.client("ben").post("/after-action-reviews", json=body)
    assert published.status_code == 201, published.get_json()
    aar = published.get_json()
    assert aar["author"]["name"] == "Ben" and [p["name"] for p in aar["participants"]] == ["Ben"]

    # Everyone in the store reads and finds it, by its words or its lessons.
    for who, words in (("cora", "checkout"), ("rita", "staged rollout"), ("admin", "")):
        found = org.client(who).get("/after-action-reviews", query_string={"q": words})
        assert [a["id"] for a in found.get_json()] == [aar["id"]], who
    assert org.client("cora").get("/after-action-reviews?q=nothing-like-it").get_json() == []

    # Writing it is "authored", taking part "attended": through the write path, per the profile.
    activity = f"http://localhost/after-action-reviews/{aar['id']}"
    stored = xapi_client(org).get("/statements", query_string={"activity": activity}).get_json()
    by_verb = {s["verb"]["id"]: s for s in stored["statements"]}
    assert set(by_verb) == {v.AUTHORED, v.ATTENDED}
    assert all(s["actor"]["mbox"] == "mailto:ben@example.com" for s in stored["statements"])
    named = feedback_templates()
    assert conforms(by_verb[v.AUTHORED], named["aar-authored"]) == []
    assert conforms(by_verb[v.ATTENDED], named["aar-attended"]) == []

    # Ann's manager makes the action an objective on Ann's review of today's cycle, in one step.
    action = aar["actions"][0]
    path = f"/after-action-reviews/{aar['id']}/actions/{action['id']}/objective"
    criteria = {"criteria": [{"verbs": [v.COMPLETED], "activity_type": v.COURSE}]}
    # A colleague may not put objectives on Ann's review: it is not even visible to him.
    assert org.client("ben").post(path, json=criteria).status_code == 404
    made = org.client("maya").post(path, json=criteria)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["review_id"] == ann_review
    assert made.get_json()["title"] == "Learn alerting with Prometheus"
    review = org.client("maya").get(f"/reviews/{ann_review}").get_json()
    assert [o["title"] for o in review["objectives"]] == ["Learn alerting with Prometheus"]
    again = org.client("maya").post(path, json=criteria)
    assert again.status_code == 409 and again.get_json()["errors"][0]["path"] == "action_id"
    shown = org.client("ann").get(f"/after-action-reviews/{aar['id']}").get_json()
    assert shown["actions"][0]["objective_id"] == made.get_json()["id"]


def test_a_later_review_cites_a_lesson_and_the_earlier_one_shows_where_it_was_reused(org):
    first = org.client("ben").post("/after-action-reviews", json=AAR).get_json()
    lesson = first["lessons"][0]
    later = org.client("cora").post(
        "/after-action-reviews",
        json={"title": "Search outage", "occurred_on": "2026-11-28", "cites": [lesson["id"]]},
    )
    assert later.status_code == 201, later.get_json()
    assert later.get_json()["cites"][0]["lesson_id"] == lesson["id"]
    earlier = org.client("ann").get(f"/after-action-reviews/{first['id']}").get_json()
    assert earlier["lessons"][0]["reused_in"] == [
        {"id": later.get_json()["id"], "title": "Search outage"}
    ]
    unknown = org.client("cora").post(
        "/after-action-reviews", json={"title": "x", "occurred_on": "2026-11-28", "cites": [999]}
    )
    assert unknown.status_code == 404 and unknown.get_json()["errors"][0]["path"] == "cites[0]"


def test_a_mentoring_session_counts_once_the_other_side_confirms_it(org):
    cycle = cycle_around_today(org)
    cora_review = review_in(org, cycle, "cora")
    nick = org.client("nick")  # Cora's manager: an objective of two mentoring sessions
    objective = nick.post(
        f"/reviews/{cora_review}/objectives",
        json={
            "title": "Be mentored twice",
            "description": "",
            "rule": "all",
            "criteria": [
                {"verbs": [v.ATTENDED], "activity_type": v.MENTORING_SESSION, "min_count": 2}
            ],
        },
    ).get_json()
    pair = org.client("admin").post(
        "/mentoring/pairs", json={"mentor_id": org.people["maya"], "mentee_id": org.people["cora"]}
    )
    assert pair.status_code == 201, pair.get_json()
    pair_id = pair.get_json()["id"]
    cora, maya = org.client("cora"), org.client("maya")

    def session(client, topic):
        logged = client.post(
            f"/mentoring/pairs/{pair_id}/sessions",
            json={"held_on": today().isoformat(), "minutes": 45, "topic": topic},
        )
        assert logged.status_code == 201, logged.get_json()
        return logged.get_json()["id"]

    def met() -> bool:
        return nick.get(f"/objectives/{objective['id']}/progress").get_json()["met"]

    first = session(cora, "Career paths")
    assert cora.post(f"/mentoring/sessions/{first}/confirmation").status_code == 403
    assert org.client("ben").post(f"/mentoring/sessions/{first}/confirmation").status_code == 404
    second = session(maya, "Code review habits")
    assert maya.post(f"/mentoring/sessions/{first}/confirmation").status_code == 200
    assert not met()  # one confirmed, one waiting for Cora
    activity = f"http://localhost/mentoring/sessions/{first}"
    stored = xapi_client(org).get("/statements", query_string={"activity": activity}).get_json()
    verbs = {s["verb"]["id"]: s for s in stored["statements"]}
    assert set(verbs) == {v.MENTORED, v.ATTENDED}
    assert verbs[v.MENTORED]["actor"]["mbox"] == "mailto:maya@example.com"
    assert verbs[v.ATTENDED]["actor"]["mbox"] == "mailto:cora@example.com"
    assert verbs[v.ATTENDED]["result"]["duration"] == "PT45M"
    named = feedback_templates()
    assert conforms(verbs[v.MENTORED], named["mentored"]) == []
    assert conforms(verbs[v.ATTENDED], named["mentee-attended"]) == []
    assert cora.post(f"/mentoring/sessions/{second}/confirmation").status_code == 200
    assert met()
    again = cora.post(f"/mentoring/sessions/{second}/confirmation")
    assert again.status_code == 409
    pairs = cora.get("/mentoring/pairs").get_json()
    assert [s["confirmed"] for s in pairs[0]["sessions"]] == [True, True]


def test_a_persons_archive_holds_the_reviews_they_wrote_their_actions_and_their_mentoring(org):
    """GDPR art. 15 and 20: what feedback keeps about Ann is in her archive, by the manifest."""
    body = {**AAR, "actions": [{"text": "Write the alert runbook", "owner_id": org.people["ann"]}]}
    assert org.client("ann").post("/after-action-reviews", json=body).status_code == 201
    pair = (
        org.client("admin")
        .post(
            "/mentoring/pairs",
            json={"mentor_id": org.people["ann"], "mentee_id": org.people["ben"]},
        )
        .get_json()
    )
    logged = org.client("ben").post(
        f"/mentoring/pairs/{pair['id']}/sessions",
        json={"held_on": today().isoformat(), "minutes": 30, "topic": "Reading a flame graph"},
    )
    assert logged.status_code == 201, logged.get_json()

    archive = org.client("ann").get(f"/people/{org.people['ann']}/archive").get_json()
    manifest = archive["manifest"]
    for part in ("after_action_reviews", "aar_actions", "mentoring"):
        assert manifest[part] == len(archive[part]), part
    assert AAR["title"] in [a["title"] for a in archive["after_action_reviews"]]
    assert "Write the alert runbook" in [a["text"] for a in archive["aar_actions"]]
    [mentoring] = [m for m in archive["mentoring"] if m["mentee_id"] == org.people["ben"]]
    assert mentoring["role"] == "mentor"
    assert [s["topic"] for s in mentoring["sessions"]] == ["Reading a flame graph"]
    assert mentoring["sessions"][0]["logged_by_them"] is False
    # The served OpenAPI document describes every part (API clients validate against it).
    schema = org.client("ann").get("/openapi.json").get_json()["components"]["schemas"]
    assert set(archive) <= set(schema["PersonArchive"]["properties"])
