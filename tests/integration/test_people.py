"""People and identities, and the Person object of the Agents resource (Communication 2.4).

Runs on SQLite and real PostgreSQL.
"""

import json

import pytest

from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lrs.errors import Conflict
from lrs.people import services as people
from tests.conftest import XapiClient, make_credential

ANN_MAIL = {"mbox": "mailto:ann@example.com"}
ANN_GITHUB = {"account": {"homePage": "https://github.com", "name": "ann-codes"}}
ANN_LMS = {"account": {"homePage": "https://canvas.example.edu", "name": "4711"}}


@pytest.fixture
def store(app):
    store_name, key, secret = make_credential(app)
    client = XapiClient(app, key, secret)
    sessions = app.extensions["learnloop"].sessions
    with read_transaction(sessions) as session:
        from lrs.auth import Authenticator

        principal = Authenticator().authenticate(session, client.headers()["Authorization"])
    return principal.store_id, sessions, client


def test_identities_link_to_one_person_and_resolve_back(store):
    store_id, sessions, _ = store
    with write_transaction(sessions) as session:
        ann = people.ensure_person(session, store_id, dict(ANN_MAIL, name="Ann"), source="manual")
        people.link_identity(session, store_id, ann, ANN_GITHUB, source="github")
        people.link_identity(session, store_id, ann, ANN_GITHUB, source="github")  # no-op
    with read_transaction(sessions) as session:
        found = people.find_person(session, store_id, ANN_GITHUB)
        assert found.id == ann.id and found.email == "ann@example.com"
        assert people.identities(session, store_id, ann.id) == [
            {"objectType": "Agent", **ANN_MAIL},
            {"objectType": "Agent", **ANN_GITHUB},
        ]


def test_an_identity_cannot_silently_move_to_another_person(store):
    store_id, sessions, _ = store
    with write_transaction(sessions) as session:
        people.ensure_person(session, store_id, ANN_MAIL)
        bob = people.create_person(session, store_id, "Bob")
    with pytest.raises(Conflict):
        with write_transaction(sessions) as session:
            people.link_identity(session, store_id, bob, ANN_MAIL)


def test_merging_people_moves_identities(store):
    store_id, sessions, _ = store
    with write_transaction(sessions) as session:
        a = people.ensure_person(session, store_id, ANN_MAIL)
        b = people.ensure_person(session, store_id, ANN_LMS)
        people.merge_people(session, store_id, a, b)
    with read_transaction(sessions) as session:
        assert people.find_person(session, store_id, ANN_LMS).id == a.id


def test_agents_resource_returns_every_identity_of_the_person(store):
    store_id, sessions, client = store
    with write_transaction(sessions) as session:
        ann = people.ensure_person(session, store_id, ANN_MAIL, name="Ann Smith")
        people.link_identity(session, store_id, ann, ANN_GITHUB)
        people.link_identity(session, store_id, ann, ANN_LMS)
    client.post(
        "/statements",
        json={
            "actor": dict(ANN_GITHUB, name="ann-codes"),
            "verb": {"id": v.REVIEWED},
            "object": {"id": "https://github.com/o/r/pull/1"},
        },
    )
    person = client.get("/agents", query_string={"agent": json.dumps(ANN_LMS)}).get_json()
    assert person["objectType"] == "Person"
    assert person["mbox"] == ["mailto:ann@example.com"]
    assert person["account"] == [ANN_GITHUB["account"], ANN_LMS["account"]]
    assert person["name"] == ["Ann Smith", "ann-codes"]


def test_people_are_per_store(app, store):
    store_id, sessions, _ = store
    with write_transaction(sessions) as session:
        people.ensure_person(session, store_id, ANN_MAIL)
    _, key, secret = make_credential(app)
    other = XapiClient(app, key, secret)
    person = other.get("/agents", query_string={"agent": json.dumps(ANN_GITHUB)}).get_json()
    assert "mbox" not in person
