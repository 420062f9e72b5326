"""SCIM 2.0 provisioning at /scim/v2, against the live endpoint, on SQLite and PostgreSQL.

The compliance checker scim2-tester runs against a real HTTP server (werkzeug in a thread);
scim2-client drives the sequences Okta and Microsoft Entra ID document; after each step the
test reads Learnloop's own tables and services (people, reporting lines, accounts), which is
what provisioning is for.
"""

from __future__ import annotations

import collections
import threading

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    Email,
    EnterpriseUser,
    Group,
    GroupMember,
    Name,
    PatchOp,
    PatchOperation,
    ResourceType,
    ScimProvider,
    SearchRequest,
    User,
)
from scim2_tester import Status, check_server
from sqlalchemy import select
from werkzeug.serving import make_server

from directory.scim.models import ScimUser
from directory.scim.tokens import create_token
from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.db import read_transaction, write_transaction
from lrs.people.models import Person
from objectives import accounts
from objectives.errors import NotSignedIn
from objectives.models import Account, ReportingLine
from tests.conftest import make_credential

UserModel = User[EnterpriseUser]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(scope="module")
def live(backend):
    """The app served on 127.0.0.1 over HTTP, its public URL being where it is served."""
    upgrade_database(backend)
    holder = {}
    server = make_server(
        "127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True
    )
    base = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"database_url": backend, "public_url": base})
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    server.server_close()
    app.extensions["learnloop"].engine.dispose()


def _sessions(app):
    return app.extensions["learnloop"].sessions


@pytest.fixture
def org(live):
    """A fresh organisation (store) with a SCIM token: (app, base, store, token)."""
    app, base = live
    store, _, _ = make_credential(app)
    with write_transaction(_sessions(app)) as session:
        token = create_token(session, store, "test").token
    return app, base, store, token


def _client(base, token, known=True) -> SyncSCIMClient:
    """A client over HTTP; ``known``: with scim2-models' User, enterprise User and Group (as a
    provisioning client ships them), else built from what the server's discovery publishes."""
    http = Client(base_url=f"{base}/scim/v2/", headers={"Authorization": f"Bearer {token}"})
    if not known:
        return SyncSCIMClient(http)
    provider = ScimProvider(
        models=[User, EnterpriseUser, Group],
        resource_types=[ResourceType.from_resource(UserModel), ResourceType.from_resource(Group)],
    )
    client = SyncSCIMClient(http, provider=provider)
    client.discover()
    return client


def _person(app, scim_id):
    with read_transaction(_sessions(app)) as session:
        row = session.scalar(select(ScimUser).where(ScimUser.scim_id == scim_id))
        person = session.get(Person, row.person_id)
        session.expunge(person)
        return person


def _manager_of(app, person_id):
    with read_transaction(_sessions(app)) as session:
        line = session.get(ReportingLine, person_id)
        return line.manager_id if line else None


# ---- The compliance checker -------------------------------------------------------------------

#: The one check that does not pass, for the reason docs/scim.md gives: removing ``active``
#: changes nothing, because Learnloop always knows whether a person is active (a deactivated
#: person stays deactivated, and says so). Okta and Entra ID set it; they never remove it.
ACCEPTED = {
    ("check_remove_attribute", Status.ERROR, "PATCH modify() did not remove attribute 'active'"),
}


def test_scim2_tester_checks_pass_against_the_live_endpoint(org):
    _, base, _, token = org
    results = check_server(_client(base, token, known=False))
    counts = collections.Counter(result.status for result in results)
    unexpected = [
        (result.title, result.status, result.reason)
        for result in results
        if result.status != Status.SUCCESS
        and not any(
            result.title == title and result.status == status and result.reason.startswith(reason)
            for title, status, reason in ACCEPTED
        )
    ]
    assert unexpected == []
    assert counts[Status.SUCCESS] >= 130, counts
    assert counts[Status.ERROR] <= 1 and counts[Status.SKIPPED] == 0, counts


# ---- Okta ---------------------------------------------------------------------------------------


def test_okta_sequence_create_update_manager_deactivate_reactivate_delete(org):
    """Okta's documented calls: lookup by userName, POST, GET, PUT (profile and manager),
    PATCH ``{"op": "replace", "value": {"active": false}}`` and back, DELETE; groups pushed
    with PATCH add and remove of members."""
    app, base, store, token = org
    client = _client(base, token)

    found = client.query(
        UserModel, query_parameters=SearchRequest(filter='userName eq "boss@acme.example"')
    )
    assert found.total_results == 0

    boss = client.create(
        UserModel(
            user_name="boss@acme.example",
            name=Name(given_name="Bo", family_name="Ss"),
            emails=[Email(value="boss@acme.example", type="work", primary=True)],
            active=True,
        )
    )
    ann = client.create(
        UserModel(
            user_name="Ann@Acme.example",
            external_id="00u1ann",
            name=Name(given_name="Ann", family_name="Lee"),
            emails=[Email(value="ann@acme.example", type="work", primary=True)],
            active=True,
        )
    )
    assert ann.user_name == "ann@acme.example"
    person = _person(app, ann.id)
    assert (person.name, person.email, person.deactivated_at) == (
        "Ann Lee",
        "ann@acme.example",
        None,
    )

    found = client.query(
        UserModel, query_parameters=SearchRequest(filter='userName eq "ANN@acme.example"')
    )
    assert [u.id for u in found.resources] == [ann.id]

    # Okta updates profiles with PUT; the manager comes with the enterprise extension.
    client.replace(
        UserModel,
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "id": ann.id,
            "userName": "ann@acme.example",
            "externalId": "00u1ann",
            "name": {"givenName": "Ann", "familyName": "Lee-Smith"},
            "emails": [{"primary": True, "value": "ann@acme.example", "type": "work"}],
            "active": True,
            ENTERPRISE: {"department": "Platform", "manager": {"value": boss.id}},
        },
        check_request_payload=False,
        url=f"/Users/{ann.id}",
    )
    replaced = client.query(UserModel, ann.id)
    assert replaced[EnterpriseUser].manager.value == boss.id
    assert replaced[EnterpriseUser].department == "Platform"
    assert _person(app, ann.id).name == "Ann Lee-Smith"
    boss_person = _person(app, boss.id)
    assert _manager_of(app, person.id) == boss_person.id
    with read_transaction(_sessions(app)) as session:
        assert accounts.reports_of(session, person.store_id, boss_person.id) == {person.id}

    # Ann has an account (invited by an admin): deactivation signs her out everywhere.
    with write_transaction(_sessions(app)) as session:
        account = accounts.create_account(
            session, person.store_id, "ann@acme.example", "a-long-password", person_id=person.id
        )
        api_token = accounts.issue_token(session, account)

    group = client.create(Group(display_name="Engineering"))
    client.modify(
        Group,
        group.id,
        PatchOp[Group](
            operations=[
                PatchOperation(
                    op="add", path="members", value=[GroupMember(value=ann.id, display="Ann")]
                )
            ]
        ),
    )
    assert [m.value for m in client.query(Group, group.id).members] == [ann.id]

    client.modify(
        UserModel,
        ann.id,
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
        check_request_payload=False,
        url=f"/Users/{ann.id}",
    )
    assert client.query(UserModel, ann.id).active is False
    assert _person(app, ann.id).deactivated_at is not None
    with read_transaction(_sessions(app)) as session:
        assert session.get(Account, account.id).disabled_at is not None
        with pytest.raises(NotSignedIn):
            accounts.account_for_token(session, api_token)
    assert _manager_of(app, person.id) == boss_person.id  # kept for a return

    client.modify(
        UserModel,
        ann.id,
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]},
        check_request_payload=False,
        url=f"/Users/{ann.id}",
    )
    assert client.query(UserModel, ann.id).active is True
    assert _person(app, ann.id).deactivated_at is None
    with read_transaction(_sessions(app)) as session:
        assert accounts.account_for_token(session, api_token).id == account.id

    client.modify(
        Group,
        group.id,
        {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{ann.id}"]'}],
        },
        check_request_payload=False,
        url=f"/Groups/{group.id}",
    )
    assert not client.query(Group, group.id).members

    client.delete(UserModel, ann.id)
    assert client.query(UserModel, ann.id, raise_scim_errors=False).status == 404
    with read_transaction(_sessions(app)) as session:
        kept = session.get(Person, person.id)
        assert kept is not None and kept.deactivated_at is not None  # record kept, out of teams
        assert session.get(ReportingLine, person.id) is None
        assert session.get(Account, account.id).disabled_at is not None
    # The userName is free again: a new hire with it is a new person.
    again = client.create(UserModel(user_name="ann@acme.example", active=True))
    assert _person(app, again.id).id != person.id


# ---- Microsoft Entra ID -------------------------------------------------------------------------


def test_entra_sequence_create_update_manager_deactivate_reactivate_delete(org):
    """Entra ID's documented requests, as it sends them: ``Replace`` in capitals, path forms
    ``emails[type eq "work"].value``, ``name.givenName``, the enterprise ``manager`` with a bare
    id as value, ``active`` as the string ``"False"``, group members removed by value."""
    app, base, store, token = org
    client = _client(base, token)

    assert (
        client.query(
            UserModel,
            query_parameters=SearchRequest(filter='userName eq "Test_User_ab6490ee@contoso.com"'),
        ).total_results
        == 0
    )
    mgr = client.create(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "externalId": "mgr1",
            "userName": "Manager_1@contoso.com",
            "active": True,
            "displayName": "Mona Manager",
            "emails": [{"primary": True, "type": "work", "value": "Manager_1@contoso.com"}],
            "name": {"familyName": "Manager", "givenName": "Mona"},
        },
        check_request_payload=False,
        url="/Users",
    )
    user = client.create(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@contoso.com",
            "active": True,
            "emails": [
                {"primary": True, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}
            ],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
            ENTERPRISE: {"employeeNumber": "1234", "department": "Sales"},
        },
        check_request_payload=False,
        url="/Users",
    )
    user_id = user["id"] if isinstance(user, dict) else user.id
    mgr_id = mgr["id"] if isinstance(mgr, dict) else mgr.id
    person = _person(app, user_id)
    assert person.email == "test_user_ab6490ee@contoso.com"
    assert person.name == "givenName familyName"

    by_external = client.query(
        UserModel,
        query_parameters=SearchRequest(
            filter='externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"'
        ),
    )
    assert [u.id for u in by_external.resources] == [user_id]

    def patch(operations):
        return client.modify(
            UserModel,
            user_id,
            {"schemas": [PATCH], "Operations": operations},
            check_request_payload=False,
            url=f"/Users/{user_id}",
        )

    patch(
        [
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updatedEmail@microsoft.com",
            },
            {"op": "Replace", "path": "name.givenName", "value": "updatedGivenName"},
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": mgr_id},
        ]
    )
    current = client.query(UserModel, user_id)
    assert current.emails[0].value == "updatedEmail@microsoft.com"
    assert current.name.given_name == "updatedGivenName"
    assert current[EnterpriseUser].manager.value == mgr_id
    assert current[EnterpriseUser].department == "Sales"
    assert _manager_of(app, person.id) == _person(app, mgr_id).id

    # A cycle (the manager reporting to their own report) is refused, and nothing changes.
    refused = client.modify(
        UserModel,
        mgr_id,
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Add", "path": f"{ENTERPRISE}:manager", "value": user_id}],
        },
        check_request_payload=False,
        url=f"/Users/{mgr_id}",
        raise_scim_errors=False,
    )
    assert (refused.status, refused.scim_type) == (400, "invalidValue")
    assert _manager_of(app, _person(app, mgr_id).id) is None

    patch([{"op": "Replace", "path": "active", "value": "False"}])
    assert _person(app, user_id).deactivated_at is not None
    assert client.query(UserModel, user_id).active is False
    patch([{"op": "Replace", "path": "active", "value": "True"}])
    assert _person(app, user_id).deactivated_at is None

    patch([{"op": "Remove", "path": f"{ENTERPRISE}:manager"}])
    assert _manager_of(app, person.id) is None
    assert client.query(UserModel, user_id)[EnterpriseUser].manager is None

    group = client.create(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"},
        },
        check_request_payload=False,
        url="/Groups",
    )
    group_id = group["id"] if isinstance(group, dict) else group.id
    for operations in (
        [{"op": "Add", "path": "members", "value": [{"value": user_id}, {"value": mgr_id}]}],
        [{"op": "Remove", "path": "members", "value": [{"value": mgr_id}]}],
    ):
        client.modify(
            Group,
            group_id,
            {"schemas": [PATCH], "Operations": operations},
            check_request_payload=False,
            url=f"/Groups/{group_id}",
        )
    assert [m.value for m in client.query(Group, group_id).members] == [user_id]
    assert [g.value for g in client.query(UserModel, user_id).groups] == [group_id]

    found = client.query(
        Group, query_parameters=SearchRequest(filter='displayName eq "displayName"')
    )
    assert [g.id for g in found.resources] == [group_id]

    client.delete(UserModel, user_id)
    assert client.query(UserModel, user_id, raise_scim_errors=False).status == 404
    assert not client.query(Group, group_id).members
    with read_transaction(_sessions(app)) as session:
        assert session.get(Person, person.id).deactivated_at is not None
