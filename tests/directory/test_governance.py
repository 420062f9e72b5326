"""Erasure (GDPR art. 17) and a person's archive (art. 20), issue 17, on SQLite and PostgreSQL.

Ann has data in every resource: statements as actor (two identities), as the object of Bob's,
as instructor in Bob's context, as a member of a Group actor, her address in a result
extension, a statement she voided, Bob's statement about hers (StatementRef), State and Agent
Profile documents, three identities, an account with an API token, a review with an objective,
a reviewer grant, a manager line, an LTI launch and roster row, audit rows naming her. After
the erasure every xAPI resource in both versions, every /api route and page that could show
her is read, and none of her identifiers appears; Bob's statements are still there, naming a
pseudonym instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from directory.governance import erasure, inventory
from directory.governance.models import ErasureRecord
from directory.scim.models import ScimUser
from learnloop.cli import main
from lrs import audit, queue
from lrs import vocabulary as v
from lrs.auth import Authenticator
from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lrs.sql import run
from lti.models import Launch, Membership, Registration
from objectives import accounts
from objectives.models import Objective, Review, ReviewCycle, ReviewGrant
from schemas.xapi import VOIDED_VERB
from tests.conftest import XapiClient, make_credential
from tests.integration.test_attachments_and_signatures import (
    BOUNDARY,
    attachment,
    multipart_body,
    part_headers,
)
from tests.support.worker import drain

ANN_NAME = "Annabel Erasmus"
ANN_MAIL = "annabel.erasmus@example.com"
ANN_LMS = {"homePage": "https://lms.example.edu", "name": "annabel-lms-4711"}
ANN_GITHUB = {"homePage": "https://github.com", "name": "annabel-codes"}
NEEDLES = (ANN_MAIL, ANN_NAME, ANN_LMS["name"], ANN_GITHUB["name"], "Annabel")
ANN = {"objectType": "Agent", "name": ANN_NAME, "mbox": f"mailto:{ANN_MAIL}"}
ANN_AS_LMS = {"objectType": "Agent", "name": ANN_NAME, "account": ANN_LMS}
ANN_AS_GITHUB = {"objectType": "Agent", "account": ANN_GITHUB}
ANN_SHA1 = {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(ANN["mbox"].encode()).hexdigest()}
NEEDLES = (*NEEDLES, ANN_SHA1["mbox_sha1sum"])
BOB = {"objectType": "Agent", "name": "Bob Keeper", "mbox": "mailto:bob@example.com"}
ACT = "https://courses.example.com/erasure/"
VERSIONS = ("1.0.3", "2.0.0")
#: Her statements as the fixture posts them; the worker adds one: her objective's "satisfied".
HERS = ["actor", "actor_lms", "object", "to_void", "voiding", "essay", "sha1_actor"]


def activity(name: str) -> dict:
    return {"objectType": "Activity", "id": ACT + name}


def statement(actor, obj, verb=v.COMPLETED, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "actor": actor, "verb": {"id": verb}, "object": obj, **extra}


def assert_no_trace(text: str, where: str) -> None:
    for needle in NEEDLES:
        assert needle.lower() not in text.lower(), f"{needle!r} is still in {where}: {text[:300]}"


class World:
    """A store with Ann, Bob and an admin; ids of everything seeded."""

    def __init__(self, app):
        self.app = app
        self.sessions = app.extensions["learnloop"].sessions
        store, key, secret = make_credential(app)
        self.store_name = store
        self.xapi = XapiClient(app, key, secret)
        with read_transaction(self.sessions) as session:
            principal = Authenticator().authenticate(session, self.xapi.headers()["Authorization"])
        self.store_id = principal.store_id
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.accounts: dict[str, int] = {}

    def post(self, name: str, body: dict) -> None:
        response = self.xapi.post("/statements", json=body)
        assert response.status_code == 200, response.get_json()
        self.ids[name] = body["id"]

    def api(self, who: str, path: str):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.app.test_client().get("/api" + path, headers=headers)

    def page(self, who: str, path: str):
        client = self.app.test_client()
        with client.session_transaction() as cookie:
            cookie.update({"account_id": self.accounts[who], "epoch": 0, "at": int(time.time())})
            cookie["csrf"] = "token"
        return client, client.get(path)


@pytest.fixture
def world(app) -> World:
    w = World(app)
    s = w.store_id
    with write_transaction(w.sessions) as session:
        with audit.acting_as(audit.Actor("command_line", "test@host", "command line (test)")):
            ann = people.ensure_person(session, s, ANN, name=ANN_NAME)
            people.link_identity(session, s, ann, ANN_AS_LMS, source="lti")
            people.link_identity(session, s, ann, ANN_AS_GITHUB, source="github")
            bob = people.ensure_person(session, s, BOB, name="Bob Keeper")
            w.ann, w.bob = ann.id, bob.id
            for who, email, person_id, admin in (
                ("admin", f"admin-{uuid.uuid4().hex[:6]}@example.com", None, True),
                ("ann", ANN_MAIL, ann.id, False),
                ("bob", "bob@example.com", bob.id, False),
            ):
                account = accounts.create_account(
                    session, s, email, None, person_id=person_id, is_admin=admin
                )
                w.accounts[who] = account.id
                w.tokens[who] = accounts.issue_token(session, account)
            accounts.set_manager(session, s, bob.id, ann.id)  # Bob reports to Ann
            cycle = ReviewCycle(
                store_id=s,
                name="2026",
                starts_on=dt.date(2026, 1, 1),
                ends_on=dt.date(2026, 12, 31),
            )
            session.add(cycle)
            session.flush()
            review = Review(store_id=s, cycle_id=cycle.id, person_id=ann.id)
            bob_review = Review(store_id=s, cycle_id=cycle.id, person_id=bob.id)
            session.add_all([review, bob_review])
            session.flush()
            w.review, w.bob_review = review.id, bob_review.id
            session.add(ReviewGrant(review_id=bob_review.id, person_id=ann.id))
            session.add(
                Objective(
                    store_id=s,
                    review_id=review.id,
                    title="Finish the course",
                    criteria=json.dumps([{"verbs": [v.COMPLETED]}]),
                )
            )
            registration = Registration(
                store_id=s,
                issuer=f"https://lms-{uuid.uuid4().hex[:6]}.example.edu",
                client_id="c1",
                auth_login_url="https://lms.example.edu/auth",
                auth_token_url="https://lms.example.edu/token",
                key_set_url="https://lms.example.edu/jwks",
            )
            session.add(registration)
            session.flush()
            w.registration, w.cycle = registration.id, cycle.id
            session.add(
                Launch(
                    store_id=s,
                    registration_id=registration.id,
                    person_id=ann.id,
                    deployment_id="d1",
                    message_type="LtiResourceLinkRequest",
                    sub=ANN_LMS["name"],
                    roles="[]",
                    statement_id=str(uuid.uuid4()),
                    created_ms=1,
                )
            )
            from lti.models import Context

            context = Context(
                store_id=s,
                registration_id=registration.id,
                deployment_id="d1",
                context_id="k1",
                activity_iri=ACT + "course",
            )
            session.add(context)
            session.flush()
            session.add(
                Membership(
                    store_id=s,
                    context_pk=context.id,
                    user_id=ANN_LMS["name"],
                    person_id=ann.id,
                    name=ANN_NAME,
                    email=ANN_MAIL,
                    updated_ms=1,
                )
            )
            session.add(
                ScimUser(
                    scim_id=str(uuid.uuid4()),
                    store_id=s,
                    person_id=ann.id,
                    user_name=ANN_MAIL,
                    attributes=json.dumps({"displayName": ANN_NAME}),
                    created_at=dt.datetime.now(dt.UTC),
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
            audit.record(
                session,
                "person.updated",
                store_id=s,
                target=audit.Target("person", ann.id, ANN_NAME),
                details={"email": ANN_MAIL},
            )
    # Statements: hers, about her, naming her, and Bob's own.
    w.post("actor", statement(ANN, activity("one")))
    w.post("actor_lms", statement(ANN_AS_LMS, activity("two"), v.ATTEMPTED))
    w.post("object", statement(BOB, ANN_AS_GITHUB, "https://example.com/verbs/mentored"))
    w.post(
        "instructor",
        statement(BOB, activity("three"), context={"instructor": ANN_AS_GITHUB}),
    )
    w.post(
        "group",
        statement(
            {"objectType": "Group", "name": "Pair", "member": [BOB, ANN_AS_LMS]}, activity("four")
        ),
    )
    w.post(
        "extension",
        statement(
            BOB,
            activity("five"),
            result={"extensions": {"https://example.com/ext/reviewer": f"asked {ANN_MAIL}"}},
        ),
    )
    w.post("to_void", statement(ANN, activity("six")))
    w.post(
        "voiding",
        statement(ANN, {"objectType": "StatementRef", "id": w.ids["to_void"]}, VOIDED_VERB),
    )
    w.post(
        "ref",
        statement(
            BOB,
            {"objectType": "StatementRef", "id": w.ids["actor"]},
            "https://example.com/verbs/liked",
        ),
    )
    w.post("bob_own", statement(BOB, activity("one")))
    # her mailbox as its SHA-1 is her too (Data 2.4.2.3): as actor, and as Bob's team member
    w.post("sha1_actor", statement(ANN_SHA1, activity("eight")))
    w.post(
        "sha1_team",
        statement(
            BOB, activity("nine"), context={"team": {"objectType": "Group", "member": [ANN_SHA1]}}
        ),
    )
    # Her essay, sent as an attachment (Communication 1.5.2): its bytes name her too.
    essay = f"Essay by {ANN_NAME}".encode()
    with_essay = statement(ANN, activity("essay"), attachments=[attachment(essay)])
    body = multipart_body([with_essay], [(part_headers(essay), essay)])
    sent = w.xapi.post(
        "/statements",
        data=body,
        headers={"Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'},
    )
    assert sent.status_code == 200, sent.get_json()
    w.ids["essay"] = with_essay["id"]
    # Documents: her State and Agent Profile, and an Activity Profile that is nobody's.
    agent = json.dumps({"mbox": ANN["mbox"]})
    state = urlencode({"activityId": ACT + "one", "agent": agent, "stateId": "bookmark"})
    assert w.xapi.put(f"/activities/state?{state}", json={"page": ANN_NAME}).status_code == 204
    profile = urlencode({"agent": json.dumps({"account": ANN_LMS}), "profileId": "prefs"})
    assert (
        w.xapi.put(
            f"/agents/profile?{profile}", data=b"theme=dark", headers={"Content-Type": "text/plain"}
        ).status_code
        == 204
    )
    shared = urlencode({"activityId": ACT + "one", "profileId": "shared"})
    assert w.xapi.put(f"/activities/profile?{shared}", json={"x": 1}).status_code == 204
    drain(w.app)
    with write_transaction(w.sessions) as session:  # an event about her not sent yet
        queue.enqueue(
            session,
            s,
            "webhook",
            f"webhook:0:{uuid.uuid4().hex}",
            {"type": "person.updated", "data": {"person": {"id": w.ann, "email": ANN_MAIL}}},
            now_ms=int(time.time() * 1000),
            delay_ms=24 * 3600 * 1000,
        )
    return w


def erase(w: World, dry_run: bool = False) -> erasure.Erasure:
    with write_transaction(w.sessions) as session:
        return erasure.erase_person(
            session,
            w.store_id,
            w.ann,
            secret="test-secret",
            public_url="http://localhost",
            dry_run=dry_run,
        )


# ---- inventory and dry run ----------------------------------------------------------------


def test_the_inventory_sorts_her_statements_into_hers_naming_her_and_about_hers(world):
    with read_transaction(world.sessions) as session:
        inv = inventory.inventory(session, world.store_id, world.ann)
        seqs = dict(
            run(
                session,
                "SELECT statement_id, seq FROM statements WHERE store_id = ?",
                [world.store_id],
            ).all()
        )
    names = {sid: name for name, sid in world.ids.items()}
    # the objectives worker said "satisfied" for her met objective: that statement is hers too
    by_seq = {seq: names.get(sid, "satisfied") for sid, seq in seqs.items()}
    assert sorted(by_seq[s] for s in inv.theirs) == sorted(HERS + ["satisfied"])
    assert sorted(by_seq[s] for s in inv.mentioning) == [
        "extension",
        "group",
        "instructor",
        "sha1_team",
    ]
    assert [by_seq[s] for s in inv.referring] == ["ref"]
    counts = inv.counts()
    assert counts["documents"] == 2 and counts["identities"] == 3 and counts["accounts"] == 1
    assert counts["reviews"] == 1 and counts["objectives"] == 1 and counts["review_grants"] == 1
    assert counts["lti_launches"] == 1 and counts["lti_memberships"] == 1
    assert counts["reporting_lines"] == 1 and counts["api_tokens"] == 1
    assert counts["scim_users"] == 1


def test_a_dry_run_counts_what_goes_and_changes_nothing(world):
    before = world.xapi.get("/statements?limit=0").get_json()["statements"]
    result = erase(world, dry_run=True)
    assert result.record_id is None
    assert (
        result.counts["statements"] == len(HERS) + 1
        and result.counts["statements_pseudonymised"] == 4
    )
    after = world.xapi.get("/statements?limit=0").get_json()["statements"]
    assert after == before
    assert world.api("admin", f"/people/{world.ann}").status_code == 200


# ---- after the erasure, nothing of hers anywhere ------------------------------------------


def xapi_reads(w: World) -> list[str]:
    """Every xAPI read that could show her: statements by each filter, documents, agents."""
    agents = [{"mbox": ANN["mbox"]}, {"account": ANN_LMS}, {"account": ANN_GITHUB}]
    agents.append({"mbox_sha1sum": ANN_SHA1["mbox_sha1sum"]})
    paths = [
        "/statements",
        "/statements?attachments=true",
        "/statements?format=canonical",
        "/statements?format=ids",
        "/statements?ascending=true&limit=1",
        "/about",
    ]
    for agent in agents:
        text = json.dumps(agent)
        paths += [
            "/statements?" + urlencode({"agent": text}),
            "/statements?" + urlencode({"agent": text, "related_agents": "true"}),
            "/agents/profile?" + urlencode({"agent": text}),
            "/activities/state?" + urlencode({"activityId": ACT + "one", "agent": text}),
        ]
    paths += [
        "/statements?" + urlencode({"verb": v.COMPLETED}),
        "/statements?" + urlencode({"verb": VOIDED_VERB}),
        "/statements?" + urlencode({"activity": ACT + "one", "related_activities": "true"}),
        "/activities?" + urlencode({"activityId": ACT + "one"}),
        "/activities/profile?" + urlencode({"activityId": ACT + "one"}),
    ]
    return paths


def test_after_erasure_no_xapi_resource_in_either_version_shows_her(world):
    erase(world)
    for version in VERSIONS:
        for path in xapi_reads(world):
            response = world.xapi.get(path, version=version)
            assert response.status_code == 200, (path, response.get_data(as_text=True))
            assert_no_trace(response.get_data(as_text=True), f"{version} GET {path}")
            body = response.get_json(silent=True)
            if path.startswith("/statements?agent") or "related_agents" in path:
                assert body["statements"] == [], path
            if path.startswith(("/agents/profile", "/activities/state")):
                assert body == [], path
        for name in HERS:
            for param in ("statementId", "voidedStatementId"):
                gone = world.xapi.get(f"/statements?{param}={world.ids[name]}", version=version)
                assert gone.status_code == 404, (name, param)
        # the Agents resource returns a Person of what was asked, nothing more of hers
        asked = world.xapi.get(
            "/agents?" + urlencode({"agent": json.dumps({"account": ANN_LMS})}), version=version
        ).get_json()
        assert asked == {"objectType": "Person", "account": [ANN_LMS]}
        # every page through the more links stays free of her
        url = "/statements?limit=2"
        while url:
            page = world.xapi.get(url, version=version)
            assert_no_trace(page.get_data(as_text=True), url)
            url = page.get_json()["more"].removeprefix("/xapi")


def test_her_attachment_data_goes_with_her_statement(world):
    def essays():
        with read_transaction(world.sessions) as session:
            return run(
                session, "SELECT COUNT(*) FROM attachments WHERE store_id = ?", [world.store_id]
            ).scalar()

    assert essays() == 1
    erase(world)
    assert essays() == 0
    multipart = world.xapi.get("/statements?attachments=true")
    assert multipart.status_code == 200
    assert_no_trace(multipart.get_data(as_text=True), "GET /statements?attachments=true")


def test_others_statements_stay_with_a_pseudonym_instead_of_her(world):
    result = erase(world)
    pseudonym = result.pseudonym
    name = pseudonym["account"]["name"]

    def get(which):
        return world.xapi.get(f"/statements?statementId={world.ids[which]}").get_json()

    assert get("instructor")["context"]["instructor"] == pseudonym
    assert pseudonym in get("group")["actor"]["member"]
    extension = get("extension")["result"]["extensions"]["https://example.com/ext/reviewer"]
    assert extension == f"asked {name}"
    assert get("ref")["object"]["id"] == world.ids["actor"]  # Bob's statement stays, unlinked
    assert get("bob_own")["actor"]["mbox"] == BOB["mbox"]
    by_pseudonym = world.xapi.get(
        "/statements?" + urlencode({"agent": json.dumps(pseudonym), "related_agents": "true"})
    ).get_json()["statements"]
    assert {s["id"] for s in by_pseudonym} == {
        world.ids[n] for n in ("instructor", "group", "sha1_team")
    }
    # the statement she voided is gone, and so is the voiding
    assert (
        world.xapi.get(f"/statements?voidedStatementId={world.ids['to_void']}").status_code == 404
    )


def test_after_erasure_no_api_route_or_page_shows_her(world):
    erase(world)
    for path in (
        "/people",
        "/reviews",
        "/audit",
        "/me",
        f"/people/{world.bob}",
        f"/reviews/{world.bob_review}",
        f"/people/{world.bob}/record",
    ):
        response = world.api("admin", path)
        assert response.status_code == 200, (path, response.get_json())
        assert_no_trace(response.get_data(as_text=True), f"GET /api{path}")
    for path in (
        f"/people/{world.ann}",
        f"/people/{world.ann}/archive",
        f"/people/{world.ann}/record",
        f"/reviews/{world.review}",
    ):
        assert world.api("admin", path).status_code == 404, path
    assert world.api("ann", "/me").status_code == 401  # her account and token are gone
    for path in (
        "/admin/people",
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/audit.jsonl",
        "/admin/accounts",
        "/admin/statements",
        f"/admin/people/{world.bob}",
        "/admin/lti",
        f"/admin/lti/registrations/{world.registration}",
        "/admin/cycles",
        f"/admin/cycles/{world.cycle}",
        f"/admin/reviews/{world.bob_review}/reviewers",
        "/team",
        f"/people/{world.bob}",
        f"/reviews/{world.bob_review}",
    ):
        _, response = world.page("admin", path)
        assert response.status_code == 200, path
        assert_no_trace(response.get_data(as_text=True), path)


def test_other_peoples_notifications_that_name_her_go_and_the_rest_stay(world):
    from notifications.kinds import Notice
    from notifications.services import add

    about_her = Notice(world.bob, "kudos.received", f"{ANN_NAME} gave you kudos", "/kudos",
                       {"giver": ANN_NAME})  # fmt: skip
    not_about_her = Notice(world.bob, "review.due", "Your review is due in 7 days", "/reviews")
    with write_transaction(world.sessions) as session:
        for notice in (about_her, not_about_her):
            add(session, world.store_id, notice, False, 1)
    _, before = world.page("bob", "/notifications")
    assert ANN_NAME in before.get_data(as_text=True)
    erase(world)
    _, after = world.page("bob", "/notifications")
    text = after.get_data(as_text=True)
    assert_no_trace(text, "Bob's inbox")
    assert "Your review is due in 7 days" in text


def test_the_erasure_record_says_how_many_and_who_but_not_whom(world):
    result = erase(world)
    with read_transaction(world.sessions) as session:
        record = session.get(ErasureRecord, result.record_id)
        row = json.dumps(
            [
                record.store_id,
                record.actor_kind,
                record.actor_id,
                record.counts,
                record.identifier_hashes,
            ]
        )
        assert_no_trace(row, "the erasure record")
        assert json.loads(record.counts)["statements"] == len(HERS) + 1
        assert len(json.loads(record.identifier_hashes)) == 4  # and her mailbox's SHA-1
        assert erasure.was_erased(session, "test-secret", world.store_id, ANN_AS_GITHUB)
        assert not erasure.was_erased(session, "test-secret", world.store_id, BOB)
        left = run(
            session,
            "SELECT COUNT(*) FROM people WHERE store_id = ? AND id = ?",
            [world.store_id, world.ann],
        ).scalar()
        assert left == 0
        orphans = run(
            session,
            "SELECT COUNT(*) FROM statement_index i WHERE i.store_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM statements s WHERE s.seq = i.seq)",
            [world.store_id],
        ).scalar()
        assert orphans == 0  # her statements' index rows went with them
        for table in ("scim_users", "identities", "accounts", "lti_launches", "lti_memberships"):
            rows = run(session, f"SELECT * FROM {table} WHERE store_id = ?", [world.store_id]).all()
            assert_no_trace(json.dumps([list(map(str, r)) for r in rows]), table)
        jobs = run(session, "SELECT payload FROM jobs WHERE store_id = ?", [world.store_id]).all()
        assert_no_trace(json.dumps([j[0] for j in jobs]), "the queue")
        events = [
            e.action
            for e in audit.list_events(
                session, audit.filter_of(world.store_id), before_id=None, limit=50
            )[0]
        ]
        assert "person.erased" in events and "person.updated" in events  # the trail stays


# ---- the archive -----------------------------------------------------------------------------


def test_the_archive_holds_exactly_her_inventory(world):
    response = world.api("admin", f"/people/{world.ann}/archive")
    assert response.status_code == 200
    assert response.is_streamed
    archive = json.loads(response.get_data(as_text=True))
    with read_transaction(world.sessions) as session:
        inv = inventory.inventory(session, world.store_id, world.ann)
    manifest = archive["manifest"]
    assert manifest["statements"] == len(inv.theirs) == len(archive["statements"]) == 8
    ids = {s["id"] for s in archive["statements"]}
    assert {world.ids[n] for n in HERS} < ids
    (satisfied,) = [s for s in archive["statements"] if s["id"] not in world.ids.values()]
    assert satisfied["verb"]["id"] == v.SATISFIED and satisfied["actor"]["mbox"] == ANN["mbox"]
    for part in ("identities", "documents", "accounts", "reviews", "lti_launches"):
        assert manifest[part] == len(archive[part]), part
    assert manifest["documents"] == len(inv.documents) == 2
    assert archive["person"]["email"] == ANN_MAIL
    state = next(d for d in archive["documents"] if d["kind"] == "state")
    assert state["content"] == {"page": ANN_NAME}
    profile = next(d for d in archive["documents"] if d["kind"] == "agent_profile")
    assert profile["content_base64"] == "dGhlbWU9ZGFyaw=="
    assert archive["accounts"][0]["email"] == ANN_MAIL
    assert "password_hash" not in json.dumps(archive["accounts"])
    assert archive["reviews"][0]["objectives"][0]["title"] == "Finish the course"


def test_the_archive_is_hers_and_the_admins_only(world):
    link = f'href="/api/people/{world.ann}/archive"'
    _, own = world.page("ann", f"/people/{world.ann}")
    assert link in own.get_data(as_text=True) and "Download your data" in own.get_data(True)
    _, admin_page = world.page("admin", f"/admin/people/{world.ann}")
    assert link in admin_page.get_data(as_text=True)
    assert world.api("ann", f"/people/{world.ann}/archive").status_code == 200
    refused = world.api("bob", f"/people/{world.ann}/archive")
    assert refused.status_code == 404 and refused.get_json()["message"]
    assert world.api(None, f"/people/{world.ann}/archive").status_code == 401


# ---- the command and the page ----------------------------------------------------------------


def test_the_command_lists_then_erases(world, backend):
    runner = CliRunner()
    env = {"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_SECRET_KEY": "cli-secret-0123456789"}
    args = ["people", "erase", "--store", world.store_name, "--email", ANN_MAIL]
    dry = runner.invoke(main, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would erase" in dry.output and "nothing changed" in dry.output
    assert "8  statements as actor or object" in dry.output
    assert world.api("admin", f"/people/{world.ann}").status_code == 200
    done = runner.invoke(main, args, env=env)
    assert done.exit_code == 0, done.output
    assert "erasure record" in done.output
    assert world.api("admin", f"/people/{world.ann}").status_code == 404
    again = runner.invoke(main, args, env=env)
    assert again.exit_code == 1
    assert again.output.startswith(f"Error: email: {ANN_MAIL} was erased from this store")


def test_the_admin_page_shows_the_counts_and_erases_after_the_email_is_typed(world):
    client, page = world.page("admin", f"/admin/people/{world.ann}/erase")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "statements as actor or object" in text and "<form" in text
    wrong = client.post(
        f"/admin/people/{world.ann}/erase",
        data={"csrf_token": "token", "confirm_email": "someone@example.com"},
    )
    assert wrong.status_code == 302
    assert world.api("admin", f"/people/{world.ann}").status_code == 200
    done = client.post(
        f"/admin/people/{world.ann}/erase",
        data={"csrf_token": "token", "confirm_email": ANN_MAIL.upper()},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/people")
    assert world.api("admin", f"/people/{world.ann}").status_code == 404
    listing = client.get("/admin/people")
    assert f"Person {world.ann} erased" in listing.get_data(as_text=True)
    assert_no_trace(listing.get_data(as_text=True), "/admin/people")


def test_only_admins_may_open_the_erase_page(world):
    _, page = world.page("bob", f"/admin/people/{world.ann}/erase")
    assert page.status_code == 403


def test_someone_known_only_by_an_lms_account_is_confirmed_by_their_number(world, backend):
    with write_transaction(world.sessions) as session:
        lms_only = people.ensure_person(
            session, world.store_id, {"account": {"homePage": ANN_LMS["homePage"], "name": "x9"}}
        )
    client, page = world.page("admin", f"/admin/people/{lms_only.id}/erase")
    assert f"type their number, {lms_only.id}, to confirm" in page.get_data(as_text=True)
    client.post(
        f"/admin/people/{lms_only.id}/erase",
        data={"csrf_token": "token", "confirm_email": str(lms_only.id + 1)},
    )
    assert world.api("admin", f"/people/{lms_only.id}").status_code == 200
    done = client.post(
        f"/admin/people/{lms_only.id}/erase",
        data={"csrf_token": "token", "confirm_email": str(lms_only.id)},
    )
    assert done.status_code == 302
    assert world.api("admin", f"/people/{lms_only.id}").status_code == 404
    # the command takes --person for them, and names what is wrong in one line
    runner = CliRunner()
    env = {"LEARNLOOP_DATABASE_URL": backend}
    gone = runner.invoke(
        main, ["people", "erase", "--store", world.store_name, "--person", lms_only.id], env=env
    )
    assert gone.exit_code == 1 and gone.output == f"Error: no person {lms_only.id} in this store\n"
    both = runner.invoke(
        main,
        ["people", "erase", "--store", world.store_name, "--person", "1", "--email", ANN_MAIL],
        env=env,
    )
    assert both.exit_code == 2 and "exactly one of --email and --person" in both.output


def test_a_statement_after_the_erasure_gets_a_new_number_and_is_counted(world):
    def newest():
        with read_transaction(world.sessions) as session:
            return run(session, "SELECT MAX(seq) FROM statements").scalar()

    before = newest()
    hers = world.ids["essay"]
    erase(world)  # her "satisfied" statement was the newest: its number is not handed out again
    world.post("after", statement(BOB, activity("seven")))
    drain(world.app)
    with read_transaction(world.sessions) as session:
        seq = run(
            session,
            "SELECT seq FROM statements WHERE statement_id = ?",
            [world.ids["after"]],
        ).scalar()
        counted = run(session, "SELECT COUNT(*) FROM learning_facts WHERE seq = ?", [seq]).scalar()
    assert seq > before and counted == 1
    assert world.xapi.get(f"/statements?statementId={hers}").status_code == 404
