"""The SCIM protocol's rules as Learnloop keeps them: errors (RFC 7644 §3.12), filters,
pagination, versions, and what provisioning does to people, reporting lines and accounts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from directory.scim.models import ScimUser
from directory.scim.tokens import create_token
from lrs.db import read_transaction, write_transaction
from lrs.models import Store
from lrs.people.models import Person
from lrs.people.services import create_person, ensure_person, find_person
from objectives import accounts
from objectives.models import Account, ReportingLine
from tests.conftest import make_credential

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """A test client for one store's /scim/v2, with its token."""

    def __init__(self, app):
        self.app = app
        self.store, _, _ = make_credential(app)
        with write_transaction(app.extensions["learnloop"].sessions) as session:
            self.token = create_token(session, self.store, "test").token
            self.store_id = session.scalar(select(Store.id).where(Store.name == self.store))
        self.client = app.test_client()

    def call(self, method, path, body=None, headers=None):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/scim+json"
        return self.client.open(f"/scim/v2{path}", method=method, json=body, headers=headers)

    def user(self, user_name, **attributes):
        answer = self.call(
            "POST", "/Users", {"schemas": [CORE], "userName": user_name, **attributes}
        )
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    def patch(self, path, *operations, headers=None):
        return self.call(
            "PATCH", path, {"schemas": [PATCH], "Operations": list(operations)}, headers
        )

    def person(self, scim_id):
        with read_transaction(self.app.extensions["learnloop"].sessions) as session:
            row = session.scalar(select(ScimUser).where(ScimUser.scim_id == scim_id))
            person = session.get(Person, row.person_id)
            line = session.get(ReportingLine, person.id)
            return (
                person.id,
                person.name,
                person.email,
                person.deactivated_at,
                (line.manager_id if line else None),
            )


@pytest.fixture
def scim(app):
    return Scim(app)


def _is_error(answer, status, scim_type=None):
    body = answer.get_json()
    assert answer.status_code == status, body
    assert answer.mimetype == "application/scim+json"
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    assert body.get("scimType") == scim_type, body
    return body


def test_without_a_valid_token_every_resource_is_a_401_scim_error(scim):
    for headers in ({}, {"Authorization": "Bearer scim_nope"}, {"Authorization": "Basic x"}):
        answer = scim.client.get("/scim/v2/Users", headers=headers)
        _is_error(answer, 401)
    # The discovery documents are the same for everyone.
    assert scim.client.get("/scim/v2/ServiceProviderConfig").status_code == 200


def test_a_second_user_with_the_same_username_in_any_case_is_a_409_uniqueness(scim):
    scim.user("Dup@Example.com")
    _is_error(
        scim.call("POST", "/Users", {"schemas": [CORE], "userName": "dup@example.COM"}),
        409,
        "uniqueness",
    )
    other = scim.user("other@example.com")
    _is_error(
        scim.patch(
            f"/Users/{other['id']}",
            {"op": "replace", "path": "userName", "value": "DUP@example.com"},
        ),
        409,
        "uniqueness",
    )


def test_malformed_bodies_filters_and_unknown_attributes_paths(scim):
    _is_error(
        scim.client.post(
            "/scim/v2/Users",
            data=b'{"userName": "a", "userName": "b"}',
            headers={
                "Authorization": f"Bearer {scim.token}",
                "Content-Type": "application/scim+json",
            },
        ),
        400,
        "invalidSyntax",
    )
    _is_error(scim.call("POST", "/Users", {"schemas": [CORE]}), 400, "invalidValue")
    empty = scim.client.post(
        "/scim/v2/Users",
        data=b"",
        headers={"Authorization": f"Bearer {scim.token}", "Content-Type": "application/scim+json"},
    )
    _is_error(empty, 400, "invalidSyntax")
    _is_error(scim.call("GET", "/Users?filter=userName%20eq"), 400, "invalidFilter")
    _is_error(scim.call("GET", "/Users/nope"), 404)
    _is_error(scim.call("GET", "/Nothing"), 404)
    answer = scim.call("DELETE", "/ServiceProviderConfig")
    _is_error(answer, 405)
    assert "GET" in answer.headers["Allow"]


def test_filters_by_username_and_external_id_and_pages_by_start_index_and_count(scim):
    ids = [scim.user(f"p{i}@example.com", externalId=f"ext-{i}")["id"] for i in range(5)]
    listed = scim.call("GET", '/Users?filter=userName%20eq%20"P3@EXAMPLE.com"').get_json()
    assert listed["totalResults"] == 1 and listed["Resources"][0]["id"] == ids[3]
    listed = scim.call("GET", '/Users?filter=externalId%20eq%20"ext-1"').get_json()
    assert [u["id"] for u in listed["Resources"]] == [ids[1]]
    assert (
        scim.call("GET", '/Users?filter=externalId%20eq%20"EXT-1"').get_json()["totalResults"] == 0
    )
    page = scim.call("GET", "/Users?startIndex=2&count=2").get_json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [u["id"] for u in page["Resources"]] == ids[1:3]
    assert scim.call("GET", "/Users?count=0").get_json()["Resources"] == []
    # Any other valid filter is answered too (evaluated by scim2-models).
    found = scim.call("GET", '/Users?filter=userName%20sw%20"p4"%20or%20externalId%20eq%20"ext-0"')
    assert sorted(u["id"] for u in found.get_json()["Resources"]) == sorted([ids[0], ids[4]])
    searched = scim.call(
        "POST",
        "/Users/.search",
        {"filter": 'userName eq "p2@example.com"', "attributes": ["userName"]},
    )
    assert searched.get_json()["Resources"] == [
        {"schemas": [CORE], "id": ids[2], "userName": "p2@example.com"}
    ]


def test_versions_etags_and_if_match(scim):
    user = scim.user("v@example.com")
    answer = scim.call("GET", f"/Users/{user['id']}")
    assert answer.headers["ETag"] == user["meta"]["version"] == 'W/"1"'
    assert (
        scim.call("GET", f"/Users/{user['id']}", headers={"If-None-Match": 'W/"1"'}).status_code
        == 304
    )
    changed = scim.patch(
        f"/Users/{user['id']}", {"op": "replace", "path": "displayName", "value": "V"}
    )
    assert changed.get_json()["meta"]["version"] == 'W/"2"'
    stale = scim.patch(
        f"/Users/{user['id']}",
        {"op": "replace", "path": "displayName", "value": "W"},
        headers={"If-Match": 'W/"1"'},
    )
    _is_error(stale, 412)
    assert scim.person(user["id"])[1] == "V"


def test_manager_unknown_or_in_a_cycle_is_refused_and_changes_nothing(scim):
    boss = scim.user("boss@example.com")
    ann = scim.user(
        "ann@example.com",
        **{"schemas": [CORE, ENTERPRISE], ENTERPRISE: {"manager": {"value": boss["id"]}}},
    )
    assert ann[ENTERPRISE]["manager"]["value"] == boss["id"]
    _is_error(
        scim.call(
            "POST",
            "/Users",
            {
                "schemas": [CORE, ENTERPRISE],
                "userName": "x@example.com",
                ENTERPRISE: {"manager": {"value": str(uuid.uuid4())}},
            },
        ),
        400,
        "invalidValue",
    )
    assert (
        scim.call("GET", '/Users?filter=userName%20eq%20"x@example.com"').get_json()["totalResults"]
        == 0
    )
    _is_error(
        scim.patch(
            f"/Users/{boss['id']}",
            {"op": "add", "path": f"{ENTERPRISE}:manager", "value": ann["id"]},
        ),
        400,
        "invalidValue",
    )
    _is_error(
        scim.patch(
            f"/Users/{ann['id']}",
            {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": ann["id"]}},
        ),
        400,
        "invalidValue",
    )
    assert scim.person(boss["id"])[4] is None
    assert scim.person(ann["id"])[4] == scim.person(boss["id"])[0]


def test_a_put_without_the_enterprise_extension_or_active_keeps_the_reporting_line_and_state(scim):
    boss = scim.user("lead@example.com")
    ann = scim.user(
        "dev@example.com",
        **{"schemas": [CORE, ENTERPRISE], ENTERPRISE: {"manager": {"value": boss["id"]}}},
    )
    scim.patch(f"/Users/{ann['id']}", {"op": "replace", "path": "active", "value": False})
    answer = scim.call(
        "PUT",
        f"/Users/{ann['id']}",
        {"schemas": [CORE], "userName": "dev@example.com", "displayName": "Dev"},
    )
    assert answer.status_code == 200, answer.get_json()
    person_id, name, _, deactivated_at, manager_id = scim.person(ann["id"])
    assert (name, manager_id) == ("Dev", scim.person(boss["id"])[0])
    assert deactivated_at is not None and answer.get_json()["active"] is False


def test_a_person_already_in_the_organisation_is_adopted_not_duplicated(scim, app):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        known = create_person(session, scim.store_id, "Known", "known@example.com").id
        left = create_person(session, scim.store_id, "Left", "left@example.com")
        left.deactivated_at = left.created_at
        left_id = left.id
    assert scim.person(scim.user("Known@example.com")["id"])[0] == known
    assert scim.person(scim.user("left@example.com")["id"])[0] != left_id


def test_a_manager_sees_the_team_the_identity_provider_sets_through_the_api(scim, app):
    boss = scim.user("maya@example.com", displayName="Maya")
    scim.user(
        "kim@example.com",
        displayName="Kim",
        **{"schemas": [CORE, ENTERPRISE], ENTERPRISE: {"manager": {"value": boss["id"]}}},
    )
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        account = accounts.create_account(
            session,
            scim.store_id,
            "maya@example.com",
            "a-long-password",
            person_id=scim.person(boss["id"])[0],
        )
        token = accounts.issue_token(session, account)
    people = scim.client.get("/api/people", headers={"Authorization": f"Bearer {token}"}).get_json()
    names = sorted(p["name"] for p in (people["items"] if isinstance(people, dict) else people))
    assert names == ["Kim", "Maya"]


def test_deactivation_disables_accounts_and_reactivation_restores_only_those(scim, app):
    ann = scim.user("acc@example.com")
    person_id = scim.person(ann["id"])[0]
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        own = accounts.create_account(
            session, scim.store_id, "acc@example.com", None, person_id=person_id
        )
        epoch = own.session_epoch
        own_id = own.id
    scim.patch(f"/Users/{ann['id']}", {"op": "replace", "value": {"active": False}})
    with read_transaction(sessions) as session:
        row = session.get(Account, own_id)
        assert row.disabled_at is not None and row.session_epoch == epoch + 1
    scim.patch(f"/Users/{ann['id']}", {"op": "replace", "value": {"active": True}})
    with write_transaction(sessions) as session:
        assert session.get(Account, own_id).disabled_at is None
        session.get(Account, own_id).disabled_at = session.get(
            Person, person_id
        ).created_at  # an admin's
    scim.patch(f"/Users/{ann['id']}", {"op": "replace", "path": "active", "value": False})
    scim.patch(f"/Users/{ann['id']}", {"op": "replace", "path": "active", "value": True})
    with read_transaction(sessions) as session:
        assert session.get(Account, own_id).disabled_at is not None


def test_groups_refuse_unknown_members_and_groups_of_groups(scim):
    user = scim.user("g@example.com")
    group = scim.call(
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "Team", "members": [{"value": user["id"]}]},
    )
    assert group.status_code == 201
    group = group.get_json()
    _is_error(
        scim.call(
            "POST",
            "/Groups",
            {"schemas": [GROUP], "displayName": "X", "members": [{"value": "nobody"}]},
        ),
        400,
        "invalidValue",
    )
    _is_error(
        scim.patch(
            f"/Groups/{group['id']}",
            {"op": "add", "path": "members", "value": [{"value": group["id"]}]},
        ),
        400,
        "invalidValue",
    )
    assert (
        scim.call("GET", '/Groups?filter=displayName%20eq%20"team"').get_json()["totalResults"] == 1
    )
    assert scim.call("DELETE", f"/Groups/{group['id']}").status_code == 204
    assert scim.call("GET", f"/Users/{user['id']}").get_json().get("groups") is None


def test_a_manager_named_by_login_or_external_id_is_found_and_returned_by_id(scim):
    boss = scim.user("chief@example.com", externalId="E-7")
    for value in ("Chief@Example.com", "E-7"):
        ann = scim.user(
            f"{uuid.uuid4().hex[:8]}@example.com",
            **{"schemas": [CORE, ENTERPRISE], ENTERPRISE: {"manager": {"value": value}}},
        )
        assert ann[ENTERPRISE]["manager"]["value"] == boss["id"]
        assert scim.person(ann["id"])[4] == scim.person(boss["id"])[0]


def test_attribute_paths_as_keys_of_a_pathless_value_are_applied(scim):
    boss = scim.user("top@example.com")
    user = scim.user("keys@example.com")
    answer = scim.patch(
        f"/Users/{user['id']}",
        {
            "op": "Replace",
            "value": {
                "name.givenName": "Kay",
                'emails[type eq "work"].value': "kay@example.com",
                "displayName": "Kay Keys",
                f"{ENTERPRISE}:manager": boss["id"],
            },
        },
    ).get_json()
    assert answer["name"]["givenName"] == "Kay" and answer["displayName"] == "Kay Keys"
    assert answer["emails"] == [{"value": "kay@example.com", "type": "work"}]
    assert answer[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert scim.person(user["id"])[1:3] == ("Kay Keys", "keys@example.com")
    assert scim.person(user["id"])[4] == scim.person(boss["id"])[0]


def test_a_new_username_becomes_the_sign_in_name_of_the_persons_account(scim, app):
    user = scim.user("old@example.com")
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        account_id = accounts.create_account(
            session, scim.store_id, "old@example.com", None, person_id=scim.person(user["id"])[0]
        ).id
        accounts.create_account(session, scim.store_id, "taken@example.com", None)
    scim.patch(
        f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": "New@example.com"}
    )
    with read_transaction(sessions) as session:
        assert session.get(Account, account_id).email == "new@example.com"
    scim.patch(
        f"/Users/{user['id']}", {"op": "replace", "path": "userName", "value": "taken@example.com"}
    )
    with read_transaction(sessions) as session:
        assert session.get(Account, account_id).email == "new@example.com"  # not two of one name
    assert scim.person(user["id"])[2] == "taken@example.com"


def test_statements_sent_as_the_persons_address_are_theirs_and_a_known_learner_is_adopted(
    scim, app
):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        # Known from an LMS launch: an identity, no email on the person.
        launched = ensure_person(session, scim.store_id, {"mbox": "mailto:lms@example.com"})
        launched.email = None
        launched_id = launched.id
    assert scim.person(scim.user("LMS@example.com")["id"])[0] == launched_id
    fresh = scim.user("fresh@example.com")
    with read_transaction(sessions) as session:
        found = find_person(session, scim.store_id, {"mbox": "mailto:fresh@example.com"})
        assert found is not None and found.id == scim.person(fresh["id"])[0]
