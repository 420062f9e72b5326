"""Kudos: never to oneself, never past the allowance (even 20 at once), gone at period end,
statements that follow the recognition profile and count in objectives."""

import datetime as dt
import threading

import pytest

from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lrs.errors import Conflict
from recognition import kudos
from recognition.periods import period_of
from recognition.statements import REASONS, kudos_activity_prefix
from schemas import recognition as schemas
from tests.objectives.conftest import ApiClient
from tests.recognition.conftest import MARCH, conforms, give, profile_templates, statement


def ms(*args) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


def test_periods_are_utc_months_or_quarters():
    assert period_of(dt.date(2026, 12, 31), "month") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert period_of(dt.date(2026, 11, 5), "quarter") == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert period_of(dt.date(2026, 2, 28), "quarter") == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert set(REASONS) == set(schemas.REASONS)


def test_kudos_to_oneself_are_refused_and_nothing_moves(org):
    ann = org.client("ann")
    response = ann.post(
        "/kudos", json={"receiver_id": org.people["ann"], "points": 5, "message": "me"}
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"] == [
        {"path": "receiver_id", "message": "kudos go to a colleague, never to oneself"}
    ]
    mine = ann.get("/kudos").get_json()
    assert mine["allowance"]["given"] == 0 and mine["wallet"]["received"] == 0
    assert mine["given"] == mine["received"] == []


def test_every_refusal_of_the_api_says_what_and_where(org):
    ann = org.client("ann")
    cases = [
        ({"receiver_id": org.people["ben"], "points": 0, "message": "x"}, 400, "points"),
        ({"receiver_id": org.people["ben"], "points": 5}, 400, "message"),
        (
            {"receiver_id": org.people["ben"], "points": 5, "message": "x", "reason": "?"},
            400,
            "reason",
        ),
        (
            {"receiver_id": org.people["ben"], "points": 5, "message": "x", "link": "no iri"},
            400,
            "link",
        ),
        ({"receiver_id": 999_999, "points": 5, "message": "x"}, 404, "receiver_id"),
        ({"receiver_id": org.people["ben"], "points": 101, "message": "x"}, 400, "points"),
    ]
    for body, status, path in cases:
        response = ann.post("/kudos", json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["errors"][0]["path"] == path
    assert (
        ann.post(
            "/kudos", json={"receiver_id": org.people["ben"], "points": 80, "message": "x"}
        ).status_code
        == 201
    )
    over = ann.post("/kudos", json={"receiver_id": org.people["ben"], "points": 21, "message": "x"})
    assert over.status_code == 409
    assert over.get_json()["errors"] == [{"path": "points", "message": "at most 20 this period"}]
    board = ann.get("/leaderboard", query_string={"period": "year"})
    assert board.status_code == 400 and board.get_json()["errors"][0]["path"] == "period"
    admin_only = ann.post("/rewards", json={"name": "Mug", "cost": 10, "stock": 1})
    assert admin_only.status_code == 403 and admin_only.get_json()["message"]


def test_twenty_gifts_at_once_never_overspend_the_allowance(org):
    """20 threads give 7 points each from one allowance of 100: exactly 14 go through."""
    app = org.app
    sessions = app.extensions["learnloop"].sessions
    receivers = [org.people[w] for w in ("ben", "maya", "cora", "nick")]
    outcomes: list[str] = []
    start = threading.Barrier(20)

    def one(i: int) -> None:
        start.wait()
        try:
            with app.app_context(), write_transaction(sessions) as session:
                kudos.give(
                    session,
                    org.store_id,
                    org.people["ann"],
                    receivers[i % 4],
                    7,
                    f"gift {i}",
                    "help",
                    None,
                    "http://localhost",
                    MARCH,
                )
            outcomes.append("given")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["given"] * 14 + ["refused"] * 6
    with read_transaction(sessions) as session:
        allowance = kudos.allowance_of(session, org.store_id, org.people["ann"], MARCH)
        assert (allowance.given, allowance.left) == (98, 2)
        received = sum(kudos.wallet_of(session, r).received for r in receivers)
        assert received == 98
        gifts = kudos.gifts(session, org.store_id, org.people["ann"], "given")
        assert len(gifts) == 14 and len({g.statement_id for g in gifts}) == 14


def test_what_is_not_given_expires_at_the_end_of_the_period(org):
    sessions = org.app.extensions["learnloop"].sessions
    last_minute = ms(2026, 3, 31, 23, 59, 59)
    give(org, "ann", "ben", 30, now_ms=last_minute)
    with read_transaction(sessions) as session:
        assert kudos.allowance_of(session, org.store_id, org.people["ann"], last_minute).left == 70
        april = kudos.allowance_of(session, org.store_id, org.people["ann"], ms(2026, 4, 1))
        assert (april.left, april.period_start) == (100, dt.date(2026, 4, 1))  # not 170
    with pytest.raises(Conflict):
        give(org, "ann", "ben", 71, now_ms=last_minute)
    give(org, "ann", "ben", 100, now_ms=ms(2026, 4, 1))  # a fresh allowance, all of it
    with read_transaction(sessions) as session:
        assert kudos.wallet_of(session, org.people["ben"]).received == 130  # received stays


def test_a_quarterly_allowance_set_by_the_admin_spans_three_months(org):
    sessions = org.app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        kudos.set_settings(session, org.store_id, 50, "quarter", MARCH)
    give(org, "ann", "ben", 40, now_ms=ms(2026, 1, 15))
    with pytest.raises(Conflict):
        give(org, "ann", "ben", 11, now_ms=ms(2026, 3, 31))
    give(org, "ann", "ben", 50, now_ms=ms(2026, 4, 1))


def test_a_gift_is_a_statement_of_the_recognition_profile(org):
    gift = give(org, "maya", "ann", 12, reason="mentoring", message="great pairing session")
    stored = statement(org, gift.statement_id)
    assert conforms(stored, profile_templates()["kudos-received"]) == []
    assert stored["actor"]["mbox"] == "mailto:ann@example.com"
    giver = stored["context"]["contextAgents"][0]
    assert giver["agent"]["mbox"] == "mailto:maya@example.com"
    assert stored["result"]["response"] == "great pairing session"
    assert conforms({**stored, "verb": {"id": v.EARNED}}, profile_templates()["kudos-received"])


def test_kudos_from_different_colleagues_count_in_objectives(org):
    """ "Receive kudos from 2 different colleagues for mentoring": ben twice counts once."""
    objective = {
        "title": "Recognised as a mentor",
        "criteria": [
            {
                "verbs": [v.RECEIVED],
                "activity_prefix": kudos_activity_prefix("http://localhost", "mentoring"),
                "count": "activities",
                "min_count": 2,
            }
        ],
    }
    maya = org.client("maya")
    created = maya.post(f"/reviews/{org.reviews['ann']}/objectives", json=objective)
    assert created.status_code == 201, created.get_json()
    objective_id = created.get_json()["id"]
    give(org, "ben", "ann", reason="mentoring")
    give(org, "ben", "ann", reason="mentoring")
    give(org, "cora", "ann", reason="help")  # another reason: not mentoring
    progress = maya.get(f"/objectives/{objective_id}/progress").get_json()
    assert progress["criteria"][0]["count"] == 1 and not progress["met"]
    give(org, "maya", "ann", reason="mentoring")
    progress = maya.get(f"/objectives/{objective_id}/progress").get_json()
    assert progress["criteria"][0]["count"] == 2 and progress["met"]


def test_my_kudos_show_given_received_and_the_allowance_left(org):
    ben = org.client("ben")
    gift = ben.post(
        "/kudos",
        json={
            "receiver_id": org.people["ann"],
            "points": 15,
            "message": "thanks for the review",
            "reason": "code-review",
            "link": "https://github.com/acme/app/pull/7",
        },
    )
    assert gift.status_code == 201
    mine = ben.get("/kudos").get_json()
    assert mine["allowance"]["left"] == 85 and mine["given"][0]["receiver"]["name"] == "Ann"
    theirs = org.client("ann").get("/kudos").get_json()
    assert theirs["wallet"] == {"received": 15, "redeemed": 0, "available": 15}
    assert theirs["received"][0]["link"] == "https://github.com/acme/app/pull/7"
    found = ApiClient(org.app, org.tokens["ben"]).get("/colleagues", query_string={"q": "an"})
    assert [p["name"] for p in found.get_json()] == ["Ann"]  # never oneself
