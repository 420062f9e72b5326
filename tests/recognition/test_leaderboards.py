"""Leaderboards: only people who opted in, ever; managers see team totals of everyone."""

from tests.recognition.conftest import MARCH, give, pages_client

MARCH_DAY = {"period": "month", "date": "2026-03-15"}


def names(board):
    return [e["name"] for e in board["entries"]]


def test_only_people_who_opted_in_appear_in_any_leaderboard_answer(org):
    give(org, "maya", "ann", now_ms=MARCH)
    give(org, "maya", "ben", now_ms=MARCH)
    give(org, "ann", "ben", now_ms=MARCH)  # ben has the most, but never opted in
    ann = org.client("ann")
    assert ann.get("/kudos").status_code == 200
    assert names(ann.get("/leaderboard", query_string=MARCH_DAY).get_json()) == []  # default off
    assert ann.put("/leaderboard/opt-in", json={"opt_in": True}).get_json() == {"opt_in": True}
    for who in ("ann", "ben", "maya", "admin"):
        for scope in ("organisation", "team"):
            args = {**MARCH_DAY, "scope": scope}
            if who == "admin" and scope == "team":
                args["manager_id"] = org.people["maya"]
            response = org.client(who).get("/leaderboard", query_string=args)
            assert response.status_code == 200, (who, scope, response.get_json())
            board = response.get_json()
            assert names(board) == ["Ann"], (who, scope)
            assert "Ben" not in str(board["entries"])
    (entry,) = org.client("ben").get("/leaderboard", query_string=MARCH_DAY).get_json()["entries"]
    assert entry["contributions"]["kudos_received"] == 1 and entry["rank"] == 1
    other_month = org.client("ann").get("/leaderboard", query_string={"date": "2026-04-01"})
    assert other_month.get_json()["entries"][0]["score"] == 0


def test_managers_see_their_teams_totals_without_anyone_opting_in(org):
    give(org, "maya", "ben", now_ms=MARCH)
    give(org, "ann", "ben", now_ms=MARCH)
    team = {**MARCH_DAY, "scope": "team"}
    board = org.client("maya").get("/leaderboard", query_string=team).get_json()
    assert board["entries"] == []
    assert board["team_totals"]["kudos_received"] == 2
    learner = org.client("ann").get("/leaderboard", query_string=team).get_json()
    assert learner["team_totals"] is None
    outside = org.client("cora").get(
        "/leaderboard", query_string={**team, "manager_id": org.people["maya"]}
    )
    assert outside.status_code == 404 and outside.get_json()["message"]


def test_the_leaderboard_page_shows_only_people_who_opted_in(org):
    give(org, "maya", "ann", now_ms=MARCH)
    give(org, "maya", "ben", now_ms=MARCH)
    assert org.client("ann").put("/leaderboard/opt-in", json={"opt_in": True}).status_code == 200
    client = pages_client(org, "ben")
    for scope in ("organisation", "team"):
        page = client.get(f"/leaderboard?scope={scope}&period=month&date=2026-03-15")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        board = html.split('id="board"')[1]
        assert "Ann" in board and "Ben" not in board
