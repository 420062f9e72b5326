"""The audit trail of administrative actions (issue 16): who, what, when, from where.

Each action is done as a user would (a page, /api with a bearer token, the admin API with a
credential, SCIM with its token, a ``learnloop`` command) and must leave exactly one row with
its actor, address and target, in the same transaction as the change: a rolled-back change
leaves none, and no secret it handled appears anywhere in the trail. Then the page per role,
its keyset paging and the CSV and JSON Lines exports, and the command. SQLite and PostgreSQL.
"""

import base64
import csv
import datetime as dt
import io
import json
import time
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from learnloop.cli import main
from lrs import audit
from lrs.audit import AuditEvent
from lrs.auth import create_credential, get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.people.services import ensure_person
from objectives import accounts
from objectives.models import Account, Objective, Review, ReviewCycle

ADDRESS = "203.0.113.7"


class Org:
    """A store with an admin (Adam), a manager (Maya) of a learner (Ann), and clients for them."""

    def __init__(self, app):
        self.app = app
        self.sessions = app.extensions["learnloop"].sessions
        self.name = f"audit-{uuid.uuid4().hex[:10]}"
        self.people: dict[str, int] = {}
        self.accounts: dict[str, Account] = {}
        with write_transaction(self.sessions) as db:
            store = get_or_create_store(db, self.name)
            self.store_id = store.id
            for who in ("adam", "maya", "ann"):
                self.people[who] = ensure_person(
                    db, store.id, {"mbox": f"mailto:{who}@example.com"}, name=who.title()
                ).id
            accounts.set_manager(db, store.id, self.people["ann"], self.people["maya"])
            for who in ("adam", "maya", "ann"):
                self.accounts[who] = accounts.create_account(
                    db,
                    store.id,
                    f"{who}@example.com",
                    None,
                    person_id=self.people[who],
                    is_admin=who == "adam",
                )
        self.set_up_until = self.last_id()

    def client(self, who, address=ADDRESS):
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        if who is not None:
            account = self.accounts[who]
            with client.session_transaction() as cookie:
                cookie.update(
                    {
                        "account_id": account.id,
                        "epoch": account.session_epoch,
                        "at": int(time.time()),
                        "csrf": "token",
                    }
                )
        return client

    def post(self, who, path, data=None, **kwargs):
        return self.client(who).post(path, data={"csrf_token": "token", **(data or {})}, **kwargs)

    def bearer(self, who) -> dict:
        with write_transaction(self.sessions) as db:
            token = accounts.issue_token(db, db.get(Account, self.accounts[who].id))
        return {"Authorization": "Bearer " + token}

    def basic(self) -> tuple[dict, str]:
        key, secret = f"adm-{uuid.uuid4().hex[:10]}", "s3cret-" + uuid.uuid4().hex
        with write_transaction(self.sessions) as db:
            create_credential(db, self.name, ["all"], key, secret)
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        return {"Authorization": "Basic " + token}, key

    def last_id(self) -> int:
        with read_transaction(self.sessions) as db:
            return db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0

    def events(self, action: str | None = None, since: int | None = None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.store_id == self.store_id)
        if action:
            query = query.where(AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.id > since)
        with read_transaction(self.sessions) as db:
            rows = list(db.scalars(query.order_by(AuditEvent.id)))
            db.expunge_all()  # readable after the read transaction ends
            return rows

    def one(self, action: str, since: int | None = None) -> AuditEvent:
        found = self.events(action, since)
        assert len(found) == 1, [(e.action, e.target_label) for e in found]
        return found[0]


@pytest.fixture
def org(app):
    return Org(app)


def every_row_text(app) -> str:
    """The whole audit table as text: a secret must appear nowhere in it."""
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        rows = db.scalars(select(AuditEvent)).all()
        return "\n".join(json.dumps(audit.event_json(e)) for e in rows)


def assert_by(event: AuditEvent, org: Org, who: str) -> None:
    email = org.accounts[who].email
    assert event.actor_kind == "account"
    assert event.actor_id == str(org.accounts[who].id)
    assert email in event.actor_label
    assert event.address == ADDRESS
    assert event.request_id


# ---- credentials, from the admin page ------------------------------------------------------


def test_a_credential_made_and_revoked_on_the_page_leaves_one_row_each_and_no_secret(org):
    start = org.last_id()
    client = org.client("adam")
    made = client.post(
        "/admin/credentials",
        data={"csrf_token": "token", "label": "Player", "scope": "statements/write"},
    )
    assert made.status_code == 302
    with client.session_transaction() as cookie:
        shown = cookie["new_credential"]  # the page shows the secret once
    created = org.one("credential.created", start)
    assert_by(created, org, "adam")
    assert created.target_kind == "credential"
    assert json.loads(created.details) == {"scopes": ["statements/write"]}
    key = created.target_id
    with read_transaction(org.sessions) as db:
        from lrs.models import Credential

        credential_id = db.scalar(select(Credential.id).where(Credential.key == key))
    revoked = org.post("adam", f"/admin/credentials/{credential_id}/revoke")
    assert revoked.status_code == 302
    event = org.one("credential.revoked", start)
    assert_by(event, org, "adam")
    assert (event.target_kind, event.target_id) == ("credential", key)
    # revoking again changes nothing and records nothing
    org.post("adam", f"/admin/credentials/{credential_id}/revoke")
    assert len(org.events("credential.revoked", start)) == 1
    assert shown["key"] == key
    assert shown["secret"] not in every_row_text(org.app)


def test_another_stores_credential_cannot_be_revoked_and_nothing_is_recorded(org, app):
    other = Org(app)
    start = other.last_id()
    headers, key = other.basic()
    with read_transaction(org.sessions) as db:
        from lrs.models import Credential

        credential_id = db.scalar(select(Credential.id).where(Credential.key == key))
    assert org.post("adam", f"/admin/credentials/{credential_id}/revoke").status_code == 404
    assert other.events("credential.revoked", start) == []


# ---- accounts, people and the import, from the admin pages ---------------------------------


def test_account_changes_on_the_pages_each_leave_one_row(org):
    start = org.last_id()
    ann = org.accounts["ann"].id
    org.post("adam", "/admin/accounts", {"email": "new@example.com", "name": "Newt"})
    invited = org.one("account.invited", start)
    assert_by(invited, org, "adam")
    assert invited.target_label == "new@example.com"
    assert org.one("person.created", start).target_label == "Newt"
    org.post("adam", f"/admin/accounts/{ann}/role", {"is_admin": "1"})
    role = org.one("account.role_changed", start)
    assert (role.target_id, json.loads(role.details)) == (str(ann), {"admin": True})
    org.post("adam", f"/admin/accounts/{ann}/disable")
    org.post("adam", f"/admin/accounts/{ann}/disable")  # already disabled: no second row
    org.post("adam", f"/admin/accounts/{ann}/enable")
    org.post("adam", f"/admin/accounts/{ann}/reset")
    for action in ("account.disabled", "account.enabled", "account.password_reset"):
        event = org.one(action, start)
        assert_by(event, org, "adam")
        assert (event.target_kind, event.target_id) == ("account", str(ann))


def test_a_link_or_token_handed_out_never_reaches_the_trail(org):
    start = org.last_id()
    ann = org.accounts["ann"].id
    client = org.client("adam")
    client.post(
        "/admin/accounts", data={"csrf_token": "token", "email": "z@example.com", "name": "Zed"}
    )
    with client.session_transaction() as cookie:
        invite_url = cookie["account_link"]["url"]
    client.post(f"/admin/accounts/{ann}/reset", data={"csrf_token": "token"})
    with client.session_transaction() as cookie:
        reset_url = cookie["account_link"]["url"]
    text = every_row_text(org.app)
    for url in (invite_url, reset_url):
        assert url.rsplit("/", 1)[-1] not in text
    assert org.events("account.invited", start) and org.events("account.password_reset", start)


def test_people_deactivated_and_imported_on_the_pages(org):
    start = org.last_id()
    ann = org.people["ann"]
    org.post("adam", f"/admin/people/{ann}/deactivate")
    assert_by(org.one("person.deactivated", start), org, "adam")
    org.post("adam", f"/admin/people/{ann}/reactivate")
    assert org.one("person.reactivated", start).target_id == str(ann)
    data = "email,name,manager_email\nx1@example.com,X One,maya@example.com\nbad,Bad,\n"
    answer = org.post(
        "adam",
        "/admin/people/import",
        {"apply": "1", "csv_text": data},
    )
    assert answer.status_code in (200, 302)
    imported = org.one("people.imported", start)
    assert_by(imported, org, "adam")
    assert json.loads(imported.details) == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }


def test_reviewers_and_cycles_on_the_pages(org):
    start = org.last_id()
    with write_transaction(org.sessions) as db:
        cycle = ReviewCycle(
            store_id=org.store_id,
            name="2027 H1",
            starts_on=dt.date(2027, 1, 1),
            ends_on=dt.date(2027, 6, 30),
        )
        db.add(cycle)
        db.flush()
        review = Review(store_id=org.store_id, cycle_id=cycle.id, person_id=org.people["ann"])
        db.add(review)
        db.flush()
        cycle_id, review_id = cycle.id, review.id
    adam = org.people["adam"]
    org.post("maya", f"/admin/reviews/{review_id}/reviewers", {"person_id": str(adam)})
    granted = org.one("reviewer.granted", start)
    assert_by(granted, org, "maya")
    assert json.loads(granted.details)["reviewer_id"] == adam
    org.post("maya", f"/admin/reviews/{review_id}/reviewers/{adam}/remove")
    assert org.one("reviewer.revoked", start).target_id == str(review_id)
    org.post("adam", f"/admin/cycles/{cycle_id}/close")
    org.post("adam", f"/admin/cycles/{cycle_id}/reopen")
    assert org.one("cycle.closed", start).target_label == "2027 H1"
    assert_by(org.one("cycle.reopened", start), org, "adam")


# ---- objectives and people through /api (a bearer token) -----------------------------------


def test_objectives_attached_and_removed_through_the_api(org):
    headers = org.bearer("adam")
    client = org.client(None)
    cycle = client.post(
        "/api/cycles",
        json={"name": "C", "starts_on": "2027-01-01", "ends_on": "2027-06-30"},
        headers=headers,
    ).get_json()
    start = org.last_id()
    review = client.post(
        "/api/reviews",
        json={"cycle_id": cycle["id"], "person_id": org.people["ann"]},
        headers=headers,
    ).get_json()
    created = org.one("review.created", start)
    assert_by(created, org, "adam")
    objective = client.post(
        f"/api/reviews/{review['id']}/objectives",
        json={
            "title": "Ship it",
            "description": "",
            "rule": "all",
            "criteria": [{"verbs": ["http://adlnet.gov/expapi/verbs/completed"]}],
        },
        headers=headers,
    )
    assert objective.status_code == 201, objective.get_json()
    attached = org.one("objective.attached", start)
    assert_by(attached, org, "adam")
    assert attached.target_label == "Ship it"
    assert json.loads(attached.details)["person_id"] == org.people["ann"]
    objective_id = objective.get_json()["id"]
    assert client.delete(f"/api/objectives/{objective_id}", headers=headers).status_code == 204
    removed = org.one("objective.removed", start)
    assert (removed.target_id, removed.target_label) == (str(objective_id), "Ship it")
    with read_transaction(org.sessions) as db:
        assert db.get(Objective, objective_id) is None


def test_a_refused_api_change_records_nothing(org):
    start = org.last_id()
    answer = org.client(None).post(
        "/api/people", json={"name": "X", "email": "x@example.com"}, headers=org.bearer("ann")
    )
    assert answer.status_code == 403
    assert org.events(since=start) == []


# ---- connectors and LMS registrations through the admin API (a credential) -----------------


def test_connectors_through_the_admin_api_are_by_the_credential_and_hold_no_secret(org):
    headers, key = org.basic()
    client = org.client(None)
    start = org.last_id()
    made = client.post(
        "/api/admin/connectors",
        json={"kind": "gitlab", "label": "Our GitLab", "signing_token": "sig-" + uuid.uuid4().hex},
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    created = org.one("connector.created", start)
    assert (created.actor_kind, created.actor_id) == ("credential", key)
    assert key in created.actor_label and created.address == ADDRESS
    assert (created.target_id, created.target_label) == (str(body["id"]), "Our GitLab")
    rotated = client.post(f"/api/admin/connectors/{body['id']}/secret", headers=headers)
    assert rotated.status_code == 200
    assert org.one("connector.secret_rotated", start).target_id == str(body["id"])
    assert client.delete(f"/api/admin/connectors/{body['id']}", headers=headers).status_code == 204
    assert org.one("connector.deleted", start).target_id == str(body["id"])
    text = every_row_text(org.app)
    for secret in (body["secret"], rotated.get_json()["secret"]):
        assert secret not in text


def test_lms_registrations_through_the_admin_api(org):
    headers, key = org.basic()
    client = org.client(None)
    start = org.last_id()
    payload = {
        "issuer": "https://moodle.example.edu",
        "client_id": "c-" + uuid.uuid4().hex[:10],
        "deployment_ids": ["1"],
        "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
        "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
    }
    made = client.post("/api/admin/lti/registrations", json=payload, headers=headers)
    assert made.status_code == 201, made.get_json()
    registration_id = made.get_json()["id"]
    created = org.one("lti.registration.created", start)
    assert (created.actor_kind, created.actor_id, created.address) == ("credential", key, ADDRESS)
    assert json.loads(created.details)["client_id"] == payload["client_id"]
    changed = client.patch(
        f"/api/admin/lti/registrations/{registration_id}",
        json={"deployment_ids": ["1", "2"], "name": "Moodle"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert json.loads(org.one("lti.registration.changed", start).details) == {
        "deployment_ids": ["1", "2"],
        "name": "Moodle",
    }
    dismissed = org.post(
        "adam",
        f"/admin/lti/registrations/{registration_id}",
        {"action": "dismiss-privacy-warning"},
    )
    assert dismissed.status_code == 200
    assert_by(org.one("lti.registration.privacy_warning_dismissed", start), org, "adam")
    invite = client.post("/api/admin/lti/invites", json={}, headers=headers).get_json()
    assert org.one("lti.invite.created", start)
    assert invite["registration_url"].rsplit("=", 1)[-1] not in every_row_text(org.app)
    gone = client.delete(f"/api/admin/lti/registrations/{registration_id}", headers=headers)
    assert gone.status_code == 204
    assert org.one("lti.registration.deleted", start).target_label == "Moodle"


# ---- SCIM: the token is made on the page, then provisions as "SCIM client" -----------------


def test_scim_tokens_and_what_a_scim_client_provisions(org):
    start = org.last_id()
    page = org.post("adam", "/admin/scim", {"action": "create", "name": "Okta"})
    token = page.get_data(as_text=True).split('<code id="scim-token">')[1].split("<")[0]
    made = org.one("scim.client.created", start)
    assert_by(made, org, "adam")
    assert made.target_label == "Okta"
    scim = org.client(None, address="198.51.100.9")
    user = scim.post(
        "/scim/v2/Users",
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "sam@example.com",
            "emails": [{"value": "sam@example.com", "primary": True}],
            "active": True,
        },
        headers={"Authorization": "Bearer " + token},
    )
    assert user.status_code == 201, user.get_data(as_text=True)
    provisioned = org.one("scim.user.created", start)
    assert provisioned.actor_kind == "scim" and provisioned.actor_id == made.target_id
    assert "Okta" in provisioned.actor_label and provisioned.address == "198.51.100.9"
    deleted = scim.delete(
        f"/scim/v2/Users/{user.get_json()['id']}", headers={"Authorization": "Bearer " + token}
    )
    assert deleted.status_code == 204
    assert org.one("scim.user.deleted", start).actor_kind == "scim"
    assert org.events("person.deactivated", start) == []  # the deletion says it, once
    org.post("adam", "/admin/scim", {"action": "revoke", "token_id": made.target_id})
    assert_by(org.one("scim.client.revoked", start), org, "adam")
    assert token not in every_row_text(org.app)


# ---- sign-in settings: the client secret is sealed, never recorded --------------------------


def test_sign_in_settings_record_what_changed_but_not_the_client_secret(org):
    from directory.sign_in import services as sign_ins
    from directory.sign_in.config import OidcConfig
    from lrs.models import Store

    start = org.last_id()
    secret = "oidc-secret-" + uuid.uuid4().hex
    services = org.app.extensions["learnloop"]
    with write_transaction(org.sessions) as db:
        sign_ins.save_settings(
            db,
            db.get(Store, org.store_id),
            password_enabled=True,
            issuer="http://127.0.0.1:9/idp",
            client_id="learnloop",
            new_client_secret=secret,
            domains=[f"{org.name}.example.com"],
            box=sign_ins.SecretBox(services.instance_secret()),
            guard=OidcConfig(allow_http_loopback=True).outbound_guard(),
        )
    event = org.one("sign_in.settings_changed", start)
    assert event.actor_kind == "command_line" and event.address == "command line"
    details = json.loads(event.details)
    assert details["client_id"] == "learnloop" and details["client_sealed_anew"] is True
    assert secret not in every_row_text(org.app)


# ---- same transaction -----------------------------------------------------------------------


def test_a_rolled_back_change_leaves_no_audit_row(org):
    from lrs.models import Credential

    start = org.last_id()
    key = "rolled-" + uuid.uuid4().hex[:8]
    with pytest.raises(RuntimeError), write_transaction(org.sessions) as db:
        create_credential(db, org.name, ["all"], key)
        assert org.last_id() == start  # not visible outside before the commit either
        raise RuntimeError("the change fails after the service call")
    with read_transaction(org.sessions) as db:
        assert db.scalar(select(Credential.id).where(Credential.key == key)) is None
    assert org.events(since=start) == []


def test_a_refused_detail_named_like_a_secret_is_a_programming_error(org):
    with pytest.raises(ValueError, match="secret"), write_transaction(org.sessions) as db:
        audit.record(db, "x.y", store_id=org.store_id, details={"client_secret": "s"})


# ---- the page per role, paging and the exports ----------------------------------------------


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv", "/admin/audit.jsonl"])
def test_only_the_stores_admins_read_the_trail(org, path):
    assert org.client("adam").get(path).status_code == 200
    for who in ("maya", "ann"):
        refused = org.client(who).get(path)
        assert refused.status_code == 403, who
        assert "Only administrators" in refused.get_data(as_text=True)
    signed_out = org.client(None).get(path)
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]


def test_the_page_shows_who_when_from_where_what_and_pages_newest_first(org):
    org.post("adam", f"/admin/accounts/{org.accounts['ann'].id}/disable")
    with write_transaction(org.sessions) as db, audit.acting_as(audit.command_line_actor()):
        for n in range(55):
            audit.record(db, "test.filler", store_id=org.store_id, details={"n": n})
    client = org.client("adam")
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.count('data-action="test.filler"') == 50
    assert 'data-action="account.disabled"' not in first
    assert "Audit trail" in first and "/admin/audit.csv" in first
    more = first.split('href="/admin/audit?before=')[1].split('"')[0]
    second = client.get(f"/admin/audit?before={more}").get_data(as_text=True)
    assert second.count('data-action="test.filler"') == 5
    assert 'data-action="account.disabled"' in second
    assert "adam@example.com" in second and ADDRESS in second
    filtered = client.get("/admin/audit?action=account").get_data(as_text=True)
    assert "test.filler" not in filtered.split("<tbody>")[1]
    assert 'data-action="account.disabled"' in filtered
    by_actor = client.get("/admin/audit?actor=ADAM@").get_data(as_text=True)
    assert 'data-action="test.filler"' not in by_actor
    assert 'data-action="account.disabled"' in by_actor
    assert client.get("/admin/audit?before=x").status_code == 400
    assert client.get("/admin/audit?actor=%00").status_code == 400


def test_the_exports_stream_the_filtered_trail_as_csv_and_json_lines(org):
    org.post("adam", f"/admin/accounts/{org.accounts['ann'].id}/disable")
    org.post("adam", "/admin/credentials", {"label": "=cmd()"})
    client = org.client("adam")
    answer = client.get("/admin/audit.csv?action=account")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {r["action"] for r in rows} == {"account.created", "account.disabled"}
    disabled = next(r for r in rows if r["action"] == "account.disabled")
    assert disabled["actor"] == f"account {org.accounts['adam'].id} (adam@example.com)"
    assert disabled["address"] == ADDRESS and disabled["target"] == "ann@example.com"
    assert disabled["occurred_at"].endswith("Z")
    whole = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    label = next(r["target"] for r in whole if r["action"] == "credential.created")
    assert label == "'=cmd()"  # a spreadsheet does not run it
    lines = client.get("/admin/audit.jsonl").get_data(as_text=True).splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
    assert {e["store_id"] for e in events} == {org.store_id}
    assert events[0]["action"] == "credential.created"
    assert events[0]["details"] == {"scopes": ["statements/write", "statements/read/mine"]}


def test_the_api_gives_the_trail_to_admins_with_a_more_link(org):
    with write_transaction(org.sessions) as db:
        for n in range(3):
            audit.record(db, "test.filler", store_id=org.store_id, details={"n": n})
    client = org.client(None)
    headers = org.bearer("adam")
    page = client.get("/api/audit?action=test&limit=2", headers=headers).get_json()
    assert [e["details"]["n"] for e in page["events"]] == [2, 1]
    rest = client.get(page["more"], headers=headers).get_json()
    assert [e["details"]["n"] for e in rest["events"]] == [0] and rest["more"] is None
    assert client.get("/api/audit", headers=org.bearer("maya")).status_code == 403
    assert client.get("/api/audit?limit=201", headers=headers).status_code == 400


# ---- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(backend, app):
    from lrs.audit_cli import audit_cli

    if "audit" not in main.commands:  # until the shell registers it (learnloop/cli.py)
        main.add_command(audit_cli)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(
            main,
            [str(a) for a in args],
            env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "https://ll.example"},
        )

    return run


def test_commands_are_recorded_as_the_command_line_and_listed_by_the_command(app, cli):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    made = cli("credentials", "create", "--store", name, "--new-store", "--label", "Feed")
    assert made.exit_code == 0, made.output
    secret = made.output.split("secret: ")[1].split()[0]
    text = cli("audit", "list", "--store", name)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert [line.split("\t")[3] for line in lines] == ["credential.created", "store.created"]
    for line in lines:
        _, actor, address, _, _ = line.split("\t")
        assert actor.startswith("command line (") and "@" in actor
        assert address == "command line"
    jsonl = cli("audit", "list", "--store", name, "--format", "jsonl", "--action", "store")
    (store_event,) = [json.loads(line) for line in jsonl.output.splitlines()]
    assert store_event["action"] == "store.created" and store_event["target"] == name
    assert store_event["actor_kind"] == "command_line" and store_event["request_id"] is None
    as_csv = cli("audit", "list", "--store", name, "--format", "csv", "--since", "2000-01-01")
    assert len(list(csv.DictReader(io.StringIO(as_csv.output)))) == 2
    later = cli("audit", "list", "--store", name, "--since", "2999-01-01T00:00:00Z")
    assert later.exit_code == 0 and later.output == ""
    assert cli("audit", "list", "--store", "no-such-store").exit_code == 1
    assert cli("audit", "list", "--since", "yesterday").exit_code == 2
    assert secret not in every_row_text(app)


def test_tool_keys_are_instance_wide_and_read_without_a_store(app, cli):
    rotated = cli("lti", "rotate-keys", "--grace-days", "1")
    assert rotated.exit_code == 0, rotated.output
    kid = rotated.output.split("signing key: ")[1].split()[0]
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        event = db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "lti.key.rotated", AuditEvent.target_id == kid
            )
        )
        db.expunge_all()
    assert event.store_id is None and event.actor_kind == "command_line"
    everything = cli("audit", "list", "--action", "lti.key", "--format", "jsonl")
    assert kid in everything.output
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        from lti.models import ToolKey

        sealed = db.scalar(select(ToolKey.private_jwk).where(ToolKey.kid == kid))
    assert sealed not in every_row_text(app)


def test_creating_a_store_is_recorded_in_that_store_and_refuses_bad_names(app):
    from lrs.auth import create_store
    from lrs.errors import BadRequest, Conflict

    name = f"made-{uuid.uuid4().hex[:8]}"
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        store = create_store(db, name)
        store_id = store.id
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.store_id == store_id)).all()
        assert (event.action, event.target_id, event.target_label) == (
            "store.created",
            str(store_id),
            name,
        )
    for bad, error in (("two words", BadRequest), (name, Conflict)):
        with pytest.raises(error), write_transaction(app.extensions["learnloop"].sessions) as db:
            create_store(db, bad)


def test_a_dynamic_registration_is_by_the_lms_that_used_the_invite(org):
    from lti import dynreg, registrations

    start = org.last_id()
    now = int(time.time() * 1000)
    with write_transaction(org.sessions) as db:
        token = registrations.create_invite(db, org.store_id, now, 3600)
    with write_transaction(org.sessions) as db:
        invite = registrations.check_invite(db, token, now)
        platform = dynreg.PlatformConfiguration(
            issuer="https://canvas.example.edu",
            authorization_endpoint="https://canvas.example.edu/auth",
            token_endpoint="https://canvas.example.edu/token",
            jwks_uri="https://canvas.example.edu/jwks",
            registration_endpoint="https://canvas.example.edu/register",
            product_family_code="canvas",
        )
        registrations.complete_dynamic_registration(
            db, invite.id, platform, "c-" + uuid.uuid4().hex[:8], "d1", now
        )
        invite_id = invite.id
    created = org.one("lti.registration.created", start)
    assert created.actor_kind == "lms" and f"invite #{invite_id}" in created.actor_label
    assert json.loads(created.details)["source"] == "dynamic"
    assert org.one("lti.invite.created", start).actor_kind == "command_line"
    assert token not in every_row_text(org.app)


def test_cycles_and_templates_through_the_api_and_the_pages(org):
    start = org.last_id()
    client = org.client(None)
    cycle = client.post(
        "/api/cycles",
        json={"name": "2028", "starts_on": "2028-01-01", "ends_on": "2028-12-31"},
        headers=org.bearer("adam"),
    )
    assert cycle.status_code == 201
    made = org.one("cycle.created", start)
    assert_by(made, org, "adam")
    assert json.loads(made.details) == {"starts_on": "2028-01-01", "ends_on": "2028-12-31"}
    template = client.post(
        "/api/templates",
        json={
            "title": "Review code",
            "description": "",
            "rule": "all",
            "criteria": [{"verbs": ["http://adlnet.gov/expapi/verbs/completed"]}],
        },
        headers=org.bearer("maya"),
    )
    assert template.status_code == 201, template.get_json()
    assert_by(org.one("template.created", start), org, "maya")
    template_id = template.get_json()["id"]
    org.post("adam", f"/admin/templates/{template_id}/retire")
    org.post("adam", f"/admin/templates/{template_id}/retire")  # already retired: no row
    org.post("adam", f"/admin/templates/{template_id}/restore")
    assert org.one("template.retired", start).target_label == "Review code"
    assert_by(org.one("template.restored", start), org, "adam")
