"""Feedback's tests run in the objectives' organisation (tests/objectives/conftest.py).

admin (no person)        maya (manager) ── ann, ben          nick (manager) ── cora

Maya's team (Maya, Ann, Ben) has three people, so the tests set the store's k to 3, the
smallest the setting allows.
"""

import datetime as dt

import pytest

from tests.objectives.conftest import org  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    """SQLite only: what these modules test does not depend on the database (the modules
    that do, test_health.py, ask for both)."""
    return f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'feedback.sqlite3'}"


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def set_k(company, k: int) -> None:
    response = company.client("admin").put("/feedback/settings", json={"k": k})
    assert response.status_code == 200, response.get_json()


def open_squad_check(company, lead="maya", title="Squad health, sprint 12") -> dict:
    response = company.client(lead).post(
        "/health-checks",
        json={
            "kind": "squad",
            "title": title,
            "opens_on": today().isoformat(),
            "closes_on": (today() + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def answer(company, who, check_id, colours: dict, trend="same"):
    """Ask for a token and answer every indicator: ``colours`` by key, green by default."""
    client = company.client(who)
    token = client.post(f"/health-checks/{check_id}/token")
    assert token.status_code == 201, token.get_json()
    check = client.get(f"/health-checks/{check_id}").get_json()
    answers = {
        q["key"]: {"colour": colours.get(q["key"], "green"), "trend": trend}
        for q in check["questions"]
    }
    return client.post(
        f"/health-checks/{check_id}/answers",
        json={"token": token.get_json()["token"], "answers": answers},
    )


def cycle_around_today(company, name="Now") -> int:
    """A review cycle that runs today (from 30 days ago to 60 days ahead), made by the admin."""
    response = company.client("admin").post(
        "/cycles",
        json={
            "name": name,
            "starts_on": (today() - dt.timedelta(days=30)).isoformat(),
            "ends_on": (today() + dt.timedelta(days=60)).isoformat(),
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def review_in(company, cycle_id: int, who: str) -> int:
    response = company.client("admin").post(
        "/reviews", json={"cycle_id": cycle_id, "person_id": company.people[who]}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
