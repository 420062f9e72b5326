"""Insight on a fixed data set whose figures this test computes itself, from the data below.

Five people in a cycle around today, k = 3. Two templates: course A and course B. Each
person's completions (days after the objectives were attached), extra lessons, and rating:
"""

import csv
import datetime as dt
import io
import statistics

from lrs import vocabulary as v
from tests.feedback.conftest import cycle_around_today, review_in, set_k

COURSE_A = "https://courses.example.com/a"
COURSE_B = "https://courses.example.com/b"
LESSON = "https://courses.example.com/lessons/"
DATA = {  # who: (rating, {course: days after attaching}, extra lessons)
    "ann": (5, {COURSE_A: 2, COURSE_B: 4}, 3),
    "ben": (4, {COURSE_A: 6}, 2),
    "cora": (2, {}, 0),
    "maya": (4, {COURSE_A: 1, COURSE_B: 10}, 1),
    "nick": (1, {COURSE_A: 3}, 0),
}


def statement(who, verb, activity, at):
    return {
        "actor": {"mbox": f"mailto:{who}@example.com"},
        "verb": {"id": verb},
        "object": {"id": activity},
        "timestamp": at.isoformat().replace("+00:00", "Z"),
    }


def build(org) -> int:
    set_k(org, 3)
    cycle = cycle_around_today(org)
    admin = org.client("admin")
    templates = {}
    for course in (COURSE_A, COURSE_B):
        templates[course] = admin.post(
            "/templates",
            json={
                "title": f"Complete {course[-1].upper()}",
                "description": "",
                "rule": "all",
                "criteria": [{"verbs": [v.COMPLETED], "activity_ids": [course]}],
            },
        ).get_json()["id"]
    attached_at = dt.datetime.now(dt.UTC)
    statements = []
    for who, (rating, done, lessons) in DATA.items():
        review = review_in(org, cycle, who)
        assert admin.put(f"/reviews/{review}/rating", json={"rating": rating}).status_code == 200
        for course in (COURSE_A, COURSE_B):
            attached = admin.post(
                f"/reviews/{review}/objectives", json={"template_id": templates[course]}
            )
            assert attached.status_code == 201, attached.get_json()
        for course, days in done.items():
            at = attached_at + dt.timedelta(days=days)
            statements.append(statement(who, v.COMPLETED, course, at))
        for i in range(lessons):
            at = attached_at + dt.timedelta(days=1, hours=i)
            statements.append(statement(who, v.EXPERIENCED, f"{LESSON}{i}", at))
    org.write(statements)
    return cycle


def test_the_figures_are_the_ones_computed_from_the_data(org):
    cycle = build(org)
    answer = org.client("admin").get(f"/cycles/{cycle}/insight").get_json()
    assert answer["shown"] is True and answer["people"] == 5 and answer["k"] == 3

    ratings = [float(rating) for rating, _, _ in DATA.values()]
    shares = [len(done) / 2 for _, done, _ in DATA.values()]
    mvr = answer["met_vs_rating"]
    assert mvr["correlation"]["n"] == 5
    assert abs(mvr["correlation"]["r"] - statistics.correlation(shares, ratings)) < 1e-3
    # Every rating is held by fewer than 3 reviews: no group is shown.
    assert all(g["mean_share_met"] is None and g["withheld"] for g in mvr["by_rating"])

    events = [float(len(done) + lessons) for _, done, lessons in DATA.values()]
    xapi = next(s for s in answer["learning_by_source"] if s["source"] == "xapi")
    assert xapi["mean_events"] == round(sum(events) / 5, 2)
    assert abs(xapi["correlation"]["r"] - statistics.correlation(events, ratings)) < 1e-3
    assert xapi["correlation"]["n"] == 5
    lms = next(s for s in answer["learning_by_source"] if s["source"] == "lms")
    assert lms["mean_events"] == 0 and lms["correlation"]["r"] is None  # nothing varies

    days = [d for _, done, _ in DATA.values() for d in done.values()]
    met = answer["days_to_met"]
    assert met["objectives"] == len(days)
    assert abs(met["median"] - statistics.median(days)) < 0.01
    assert abs(met["mean"] - statistics.mean(days)) < 0.01

    a_met = sum(COURSE_A in done for _, done, _ in DATA.values()) / 5
    b_met = sum(COURSE_B in done for _, done, _ in DATA.values()) / 5
    assert [(t["title"], t["share_met"], t["people"]) for t in answer["templates"]] == [
        ("Complete B", b_met, 5),
        ("Complete A", a_met, 5),
    ]
    exported = org.client("admin").get(f"/cycles/{cycle}/insight?format=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert ["share met", "Complete B", str(b_met), "5"] in rows


def test_a_manager_of_fewer_than_k_people_sees_nothing_in_json_or_csv(org):
    cycle = build(org)
    maya = org.client("maya")  # manages Ann and Ben: 2 people, fewer than k = 3
    answer = maya.get(f"/cycles/{cycle}/insight").get_json()
    assert answer["shown"] is False and answer["people"] == 2
    assert all(answer[f] is None for f in ("met_vs_rating", "learning_by_source", "templates"))
    text = maya.get(f"/cycles/{cycle}/insight?format=csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(text)))[1][0] == "nothing shown"
    assert org.client("ann").get(f"/cycles/{cycle}/insight").status_code == 403
