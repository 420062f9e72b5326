"""Every /api route with a user of each role: admin, manager, reviewer, learner, outsider.

maya manages ann and ben; nick manages cora; rita reviews ann's review. A review or person
outside an account's reach is a 404, exactly as if it did not exist.
"""

import pytest

from lrs import vocabulary as v

COMPLETED = v.COMPLETED
OBJECTIVE = {"title": "One course", "criteria": [{"verbs": [COMPLETED]}]}


@pytest.fixture
def objective(org):
    response = org.client("maya").post(f"/reviews/{org.reviews['ann']}/objectives", json=OBJECTIVE)
    return response.get_json()["id"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("maya", 200),
        ("rita", 200),
        ("ann", 200),
        ("ben", 404),
        ("nick", 404),
        ("cora", 404),
    ],
)
def test_reading_anns_review(org, who, status):
    assert org.client(who).get(f"/reviews/{org.reviews['ann']}").status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("maya", 200), ("rita", 403), ("ann", 403), ("nick", 404)]
)
def test_changing_the_status_of_anns_review(org, who, status):
    response = org.client(who).patch(
        f"/reviews/{org.reviews['ann']}", json={"status": "in_progress"}
    )
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("who", "status"), [("rita", 200), ("admin", 200), ("maya", 403), ("ann", 403)]
)
def test_only_reviewers_write_the_reviewer_comment(org, who, status):
    response = org.client(who).patch(
        f"/reviews/{org.reviews['ann']}", json={"reviewer_comment": "Solid"}
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("maya", 201), ("admin", 201), ("ann", 403), ("rita", 403), ("nick", 404)]
)
def test_attaching_an_objective_to_anns_review(org, who, status):
    response = org.client(who).post(f"/reviews/{org.reviews['ann']}/objectives", json=OBJECTIVE)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("ann", 200), ("rita", 200), ("ben", 404), ("nick", 404)]
)
def test_reading_progress_of_an_objective(org, objective, who, status):
    assert org.client(who).get(f"/objectives/{objective}/progress").status_code == status


@pytest.mark.parametrize(("who", "status"), [("ann", 403), ("nick", 404), ("maya", 204)])
def test_deleting_an_objective(org, objective, who, status):
    assert org.client(who).delete(f"/objectives/{objective}").status_code == status


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("ann", {"ann"}),
        ("maya", {"ann", "ben", "maya"}),
        ("nick", {"cora"}),
        ("rita", {"ann"}),
        ("admin", {"ann", "ben", "cora", "maya"}),
    ],
)
def test_listing_reviews_shows_only_what_the_role_reaches(org, who, visible):
    names = {r["person_name"].lower() for r in org.client(who).get("/reviews").get_json()}
    assert names == visible


@pytest.mark.parametrize(
    ("who", "status"), [("nick", 200), ("cora", 200), ("maya", 404), ("ann", 404)]
)
def test_reading_coras_learner_record(org, who, status):
    assert org.client(who).get(f"/people/{org.people['cora']}/record").status_code == status


@pytest.mark.parametrize(
    ("who", "person", "status"),
    [("rita", "ann", 200), ("rita", "ben", 404), ("rita", "maya", 404), ("ben", "ann", 404)],
)
def test_a_reviewer_reads_the_record_of_whom_they_review_only(org, who, person, status):
    assert org.client(who).get(f"/people/{org.people[person]}/record").status_code == status
    # The record only: the person resource (and their other reviews) stay out of reach.
    assert org.client(who).get(f"/people/{org.people[person]}").status_code == 404


@pytest.mark.parametrize(
    ("who", "team"), [("maya", {"Ann", "Ben"}), ("nick", {"Cora"}), ("ann", set())]
)
def test_team_view_contains_only_reports(org, who, team):
    rows = org.client(who).get(f"/cycles/{org.cycle_id}/team").get_json()
    assert {row["person"]["name"] for row in rows} == team


@pytest.mark.parametrize(("who", "status"), [("admin", 201), ("maya", 403), ("ann", 403)])
def test_creating_a_cycle(org, who, status):
    body = {"name": "2026 H2", "starts_on": "2026-07-01", "ends_on": "2026-12-31"}
    assert org.client(who).post("/cycles", json=body).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("maya", 201), ("admin", 201), ("ann", 403), ("rita", 403)]
)
def test_creating_a_template(org, who, status):
    assert org.client(who).post("/templates", json=OBJECTIVE).status_code == status


def test_listing_templates_needs_the_manager_role(org):
    assert org.client("maya").get("/templates").status_code == 200
    assert org.client("ann").get("/templates").status_code == 403


@pytest.mark.parametrize(
    ("who", "person", "status"),
    [("maya", "ben", 201), ("maya", "cora", 404), ("ann", "ann", 403), ("admin", "cora", 201)],
)
def test_opening_a_review(org, who, person, status):
    import datetime as dt

    from lrs.db import write_transaction
    from objectives.models import ReviewCycle

    with write_transaction(org.app.extensions["learnloop"].sessions) as session:
        cycle = ReviewCycle(
            store_id=org.store_id,
            name="next",
            starts_on=dt.date(2026, 7, 1),
            ends_on=dt.date(2026, 12, 31),
        )
        session.add(cycle)
        session.flush()
        cycle_id = cycle.id
    response = org.client(who).post(
        "/reviews", json={"cycle_id": cycle_id, "person_id": org.people[person]}
    )
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), [("admin", 201), ("maya", 403), ("ann", 403)])
def test_adding_people_is_for_admins(org, who, status):
    body = {"name": "Dan", "email": "dan@example.com", "manager_id": org.people["maya"]}
    assert org.client(who).post("/people", json=body).status_code == status


def test_reporting_lines_cannot_form_a_cycle(org):
    response = org.client("admin").put(
        f"/people/{org.people['maya']}/manager", json={"manager_id": org.people["ann"]}
    )
    assert response.status_code == 400


def test_people_list_follows_the_roles(org):
    assert {p["name"] for p in org.client("maya").get("/people").get_json()} == {
        "Maya",
        "Ann",
        "Ben",
    }
    assert {p["name"] for p in org.client("cora").get("/people").get_json()} == {"Cora"}


def test_without_or_with_a_bad_token_is_401(org):
    client = org.app.test_client()
    assert client.get("/api/reviews").status_code == 401
    bad = client.get("/api/reviews", headers={"Authorization": "Bearer ll_forged"})
    assert bad.status_code == 401 and bad.get_json()["code"] == "not_signed_in"


def test_a_store_never_sees_another_store(org, app):
    from tests.objectives.conftest import ApiClient

    other = org.__class__(app=app, store_id=0)
    from lrs.auth import get_or_create_store
    from lrs.db import write_transaction
    from objectives import accounts

    with write_transaction(app.extensions["learnloop"].sessions) as session:
        store = get_or_create_store(session, "other-store-" + str(org.store_id))
        admin = accounts.create_account(session, store.id, "root@example.com", None, is_admin=True)
        token = accounts.issue_token(session, admin)
    outsider = ApiClient(app, token)
    assert outsider.get(f"/reviews/{org.reviews['ann']}").status_code == 404
    assert outsider.get(f"/people/{org.people['ann']}/record").status_code == 404
    assert outsider.get("/reviews").get_json() == []
    del other


def test_signing_in_with_a_password_gives_a_token(org, app):
    from lrs.db import write_transaction
    from lrs.models import Store
    from objectives import accounts

    with write_transaction(app.extensions["learnloop"].sessions) as session:
        store = session.get(Store, org.store_id)
        accounts.create_account(session, org.store_id, "Pat@Example.com", "correct horse battery")
        store_name = store.name
    client = app.test_client()
    wrong = client.post(
        "/api/tokens",
        json={"store": store_name, "email": "pat@example.com", "password": "wrong password!"},
    )
    assert wrong.status_code == 401
    right = client.post(
        "/api/tokens",
        json={"store": store_name, "email": "pat@example.com", "password": "correct horse battery"},
    )
    assert right.status_code == 201
    token = right.get_json()["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["email"] == "pat@example.com" and me["is_admin"] is False


def test_openapi_document_lists_the_routes(org):
    document = org.app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert "/api/reviews/{review_id}/objectives" in document["paths"]
    assert "Criterion" in document["components"]["schemas"]


def test_api_asks_for_a_bearer_token_not_basic_credentials(org):
    """/api takes bearer tokens (RFC 6750 §3): its 401 challenges Bearer, while /xapi keeps
    Basic."""
    answer = org.app.test_client().get("/api/me")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")
    xapi = org.app.test_client().get(
        "/xapi/statements", headers={"X-Experience-API-Version": "2.0.0"}
    )
    assert xapi.status_code == 401 and xapi.headers["WWW-Authenticate"].startswith("Basic ")
