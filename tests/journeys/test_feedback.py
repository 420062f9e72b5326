"""Journey 8, Learn and recognise (the feedback slice): "answers a squad health check
anonymously, writes an after-action review whose action becomes an objective."

Through a real `learnloop demo` and its /api only: the printed admin lowers k to the smallest
allowed, the printed manager opens a squad health check for her team, every member answers
once (a second answer is refused), and once closed the results are tallies, never names. A
learner writes an after-action review with an action of her own; her manager turns the action
into an objective on her review in one call. Terms come from the served vocabulary.
"""

import datetime as dt

from tests.journeys.support import Api, printed_admin


def api(demo, email: str) -> Api:
    return Api(demo.base_url, demo.printed.organisation, email, demo.printed.password)


def test_a_team_answers_a_health_check_and_an_action_becomes_an_objective(demo):
    admin = api(demo, printed_admin(demo))
    assert (
        admin.http.put(demo.base_url + "/api/feedback/settings", json={"k": 3}).status_code == 200
    )
    manager_email = next(e for e in demo.printed.accounts if e.startswith("maya"))
    manager = api(demo, manager_email)
    # Her team, as she finds it: the people /api shows her, but herself (the demo prints only
    # her account and the admin's; every sample account signs in with the printed password).
    manager_id = manager.get("/api/me").json()["person_id"]
    people = manager.get("/api/people").json()
    team = sorted(p["email"] for p in people if p["id"] != manager_id and p["email"])
    assert len(team) == 3, people
    today = dt.date.today()
    opened = manager.post(
        "/api/health-checks",
        {
            "kind": "squad",
            "title": "Squad health",
            "opens_on": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert opened.status_code == 201, opened.text
    check = opened.json()
    answers = {q["key"]: {"colour": "green", "trend": "better"} for q in check["questions"]}
    for email in team:
        member = api(demo, email)
        token = member.post(f"/api/health-checks/{check['id']}/token", {}).json()["token"]
        body = {"token": token, "answers": answers}
        assert member.post(f"/api/health-checks/{check['id']}/answers", body).status_code == 201
        again = member.post(f"/api/health-checks/{check['id']}/answers", body)
        assert again.status_code == 409, again.text
    assert manager.post(f"/api/health-checks/{check['id']}/close", {}).status_code == 200
    results = manager.get(f"/api/health-checks/{check['id']}/results").json()
    assert results["shown"] and results["answered"] == 3
    assert all(q["colours"]["green"] == 3 for q in results["questions"])
    assert "ann" not in str(results).lower()

    learner = api(demo, team[0])
    me = learner.get("/api/me").json()
    person_id = me.get("person_id") or me["person"]["id"]
    aar = learner.post(
        "/api/after-action-reviews",
        {
            "title": "Release rollback",
            "occurred_on": today.isoformat(),
            "happened": "A migration locked a table for ten minutes",
            "actions": [{"text": "Learn online schema migrations", "owner_id": person_id}],
            "lessons": ["Rehearse migrations on a copy of production"],
        },
    )
    assert aar.status_code == 201, aar.text
    vocabulary = learner.get("/api/vocabulary").json()
    completed = next(t["id"] for t in vocabulary["verbs"] if t["name"] == "completed")
    action = aar.json()["actions"][0]
    made = manager.post(
        f"/api/after-action-reviews/{aar.json()['id']}/actions/{action['id']}/objective",
        {"criteria": [{"verbs": [completed]}]},
    )
    assert made.status_code == 201, made.text
    review = manager.get(f"/api/reviews/{made.json()['review_id']}").json()
    assert "Learn online schema migrations" in [o["title"] for o in review["objectives"]]
