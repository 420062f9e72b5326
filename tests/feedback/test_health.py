"""Squad health checks: anonymous answers, one each, aggregates only and only at k or more.

On SQLite and PostgreSQL: the one-answer rule and the anonymity are properties of the tables.
"""

import csv
import io

import pytest
from sqlalchemy import inspect

from tests.feedback.conftest import answer, open_squad_check, set_k


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('health') / 'health.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_fewer_than_k_answers_show_nothing_anywhere_and_k_answers_show_aggregates(org):
    set_k(org, 3)
    check = open_squad_check(org)
    assert answer(org, "ann", check["id"], {"fun": "red"}, trend="worse").status_code == 201
    assert answer(org, "ben", check["id"], {"fun": "amber"}).status_code == 201
    maya = org.client("maya")
    assert maya.post(f"/health-checks/{check['id']}/close").status_code == 200

    results = maya.get(f"/health-checks/{check['id']}/results").get_json()
    assert results["answered"] == 2 and results["k"] == 3
    assert results["shown"] is False and results["questions"] == []
    assert "fewer than 3" in results["reason"]
    assert results["trends"][0]["means"]["fun"] is None
    exported = maya.get(f"/health-checks/{check['id']}/results?format=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == 2 and rows[1][0].startswith("no results: fewer than 3")
    admin = org.client("admin").get(f"/health-checks/{check['id']}/results").get_json()
    assert admin["shown"] is False and admin["questions"] == []

    # A third member answers a fresh check: now there are k answers, shown as tallies.
    second = open_squad_check(org, title="Squad health, sprint 13")
    for who, fun in (("ann", "red"), ("ben", "amber"), ("maya", "green")):
        assert answer(org, who, second["id"], {"fun": fun}).status_code == 201
    before_closing = maya.get(f"/health-checks/{second['id']}/results").get_json()
    assert before_closing["shown"] is False and "closed" in before_closing["reason"]
    maya.post(f"/health-checks/{second['id']}/close")
    shown = maya.get(f"/health-checks/{second['id']}/results").get_json()
    assert shown["shown"] is True and shown["answered"] == 3
    fun = next(q for q in shown["questions"] if q["key"] == "fun")
    assert fun["colours"] == {"red": 1, "amber": 1, "green": 1}
    assert fun["answers"] == 3 and fun["mean"] == 2.0
    assert [t["means"]["fun"] for t in shown["trends"]] == [None, 2.0]
    exported = maya.get(f"/health-checks/{second['id']}/results?format=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:3] == ["question", "answers", "mean"]
    assert ["Fun", "3", "2.0", "1", "1", "1", "0", "3", "0"] in rows


def test_a_member_answers_once_the_second_attempt_is_refused_and_stores_nothing(org):
    set_k(org, 3)
    check = open_squad_check(org)
    ann = org.client("ann")
    token = ann.post(f"/health-checks/{check['id']}/token").get_json()["token"]
    answers = {q["key"]: {"colour": "green", "trend": "same"} for q in check["questions"]}
    body = {"token": token, "answers": answers}
    assert ann.post(f"/health-checks/{check['id']}/answers", json=body).status_code == 201
    again = ann.post(f"/health-checks/{check['id']}/answers", json=body)
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["path"] == "token"
    new_token = ann.post(f"/health-checks/{check['id']}/token")
    assert new_token.status_code == 409
    assert "answered" in new_token.get_json()["message"]
    assert ann.get(f"/health-checks/{check['id']}").get_json()["answered"] == 1
    sessions = org.app.extensions["learnloop"].sessions
    with sessions() as db:
        from feedback.models import HealthAnswer

        stored = db.query(HealthAnswer).filter_by(check_id=check["id"]).count()
    assert stored == len(check["questions"])  # one answer per question, once
    # Someone outside the team cannot even see the check.
    assert org.client("cora").post(f"/health-checks/{check['id']}/token").status_code == 404


def test_no_table_route_or_export_can_join_answers_to_people(org):
    set_k(org, 3)
    sessions = org.app.extensions["learnloop"].sessions
    with sessions() as db:
        inspector = inspect(db.get_bind())
        columns = {c["name"] for c in inspector.get_columns("health_answers")}
        foreign = {fk["referred_table"] for fk in inspector.get_foreign_keys("health_answers")}
        members = {c["name"] for c in inspector.get_columns("health_check_members")}
    assert columns == {"id", "store_id", "check_id", "question", "value", "trend"}
    assert foreign == {"stores", "health_checks"}  # nothing that leads to a person
    assert members == {"check_id", "person_id", "token_hash", "answered"}  # whether, not what

    check = open_squad_check(org)
    for who, colour in (("ann", "red"), ("ben", "amber"), ("maya", "green")):
        answer(org, who, check["id"], {"speed": colour})
    org.client("maya").post(f"/health-checks/{check['id']}/close")
    with sessions() as db:
        from feedback.models import HealthAnswer

        ids = [a.id for a in db.query(HealthAnswer).filter_by(check_id=check["id"])]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and len(set(ids)) == len(ids)

    people = {"ann", "ben", "maya", "Ann", "Ben", "Maya"}
    member_ids = {org.people[w] for w in ("ann", "ben")}
    for viewer in ("ann", "ben", "maya", "admin"):
        client = org.client(viewer)
        outputs = [
            client.get("/health-checks").get_data(as_text=True),
            client.get(f"/health-checks/{check['id']}").get_data(as_text=True),
            client.get(f"/health-checks/{check['id']}/results").get_data(as_text=True),
            client.get(f"/health-checks/{check['id']}/results?format=csv").get_data(as_text=True),
        ]
        for text in outputs:
            assert not any(name in text for name in people), text
            assert "person_id" not in text and "token" not in text
        results = client.get(f"/health-checks/{check['id']}/results").get_json()
        for question in results["questions"]:  # aggregates: tallies that add up to everyone
            assert sum(question["colours"].values()) == 3
        listed = client.get(f"/health-checks/{check['id']}").get_json()
        assert set(listed) >= {"members", "answered"}
        assert not member_ids & {v for v in listed.values() if isinstance(v, int)} - {
            listed["lead_id"],
            listed["id"],
            listed["members"],
            listed["answered"],
        }
