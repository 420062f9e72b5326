"""Statement export as NDJSON or CSV (issue 17, part 6), on SQLite and PostgreSQL.

An admin downloads what GET /xapi/statements would page through for the same filters: the same
statements in the same order, voided ones left out, shaped by the same ``format`` rules. It is
read a few statements at a time here (the chunk is made small), so the keyset and server-side
cursor boundaries fall inside every export, including between statements stored in the same
millisecond. Then the CSV's columns, the errors that name the parameter, who may export, the
download form on the statements page and ``learnloop statements export``. Memory at a million
statements is measured by bench/bench_export.py, not here.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from learnloop.cli import main
from lrs.auth import get_or_create_store, require_store
from lrs.db import read_transaction, write_transaction
from lrs.people.services import ensure_person
from lrs.statements import export
from objectives import accounts
from tests.conftest import XapiClient, make_credential

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE = "http://courses.example.com/course/1"
LESSON = "http://courses.example.com/lesson/"
REGISTRATION = "6fa459ea-ee8a-4ca4-894e-db77e160355e"
ANN = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}
BEN = {"name": "Ben", "account": {"homePage": "https://sso.example.com", "name": "ben"}}
MALLORY = {"name": '=HYPERLINK("http://evil.example")', "mbox_sha1sum": "a" * 40}
OPENID = {"openid": "https://id.example.com/olga"}
TEAM = {
    "objectType": "Group",
    "name": "Team",
    "mbox": "mailto:team@example.com",
    "member": [{"mbox": "mailto:ann@example.com"}],
}
ACTORS = [ANN, BEN, MALLORY, OPENID, TEAM]


def lesson(n: int) -> dict:
    return {
        "id": f"{LESSON}{n}",
        "definition": {"name": {"de": f"Lektion {n}", "en": f"Lesson {n}"}},
    }


def statement(n: int) -> dict:
    """Statement ``n`` of the corpus: every actor, two verbs, five lessons, some with context."""
    s: dict = {
        "actor": ACTORS[n % len(ACTORS)],
        "verb": {"id": COMPLETED, "display": {"de": "abgeschlossen", "en-US": "completed"}}
        if n % 3
        else {"id": ATTEMPTED, "display": {"fr": "essayé"}},
        "object": {"objectType": "Activity", **lesson(n % 5)},
        "timestamp": f"2026-01-01T00:00:{n % 60:02d}Z",
    }
    if n % 2:
        s["result"] = {
            "success": n % 4 == 1,
            "completion": True,
            "score": {"scaled": -0.5, "raw": -3} if n % 7 == 1 else {"scaled": 0.9, "raw": 9},
            "duration": "PT1M",
        }
    if n % 4 == 0:
        s["context"] = {
            "registration": REGISTRATION,
            "platform": "-platform",
            "contextActivities": {"parent": [{"id": COURSE}], "grouping": [{"id": LESSON}]},
        }
    if n % 10 == 9:  # Ann is the object, not the actor: only related_agents finds her
        s["object"] = dict(ANN)
    return s


class Org:
    """A store with a credential, an admin (Adam) and a learner (Lea), and 60 statements."""

    def __init__(self, app):
        self.app = app
        self.sessions = app.extensions["learnloop"].sessions
        self.store, key, secret = make_credential(app)
        self.xapi = XapiClient(app, key, secret)
        with write_transaction(self.sessions) as db:
            store_id = get_or_create_store(db, self.store).id
            self.accounts = {}
            for who, admin in (("adam", True), ("lea", False)):
                person = ensure_person(db, store_id, {"mbox": f"mailto:{who}@example.com"})
                account = accounts.create_account(
                    db, store_id, f"{who}@example.com", None, person_id=person.id, is_admin=admin
                )
                self.accounts[who] = (account.id, account.session_epoch)
            self.tokens = {
                who: accounts.issue_token(db, db.get(accounts.Account, account_id))
                for who, (account_id, _) in self.accounts.items()
            }
        ids: list[str] = []
        for first in range(0, 60, 12):  # five POSTs: statements share a stored ms in each
            batch = [statement(n) for n in range(first, first + 12)]
            answer = self.xapi.post("/statements", json=batch)
            assert answer.status_code == 200, answer.get_json()
            ids += answer.get_json()
            time.sleep(0.005)
        self.ids = ids
        self.voided_id = ids[4]
        voiding = {
            "actor": ANN,
            "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": self.voided_id},
        }
        answer = self.xapi.post("/statements", json=voiding)
        assert answer.status_code == 200, answer.get_json()
        self.voiding_id = answer.get_json()[0]

    def api(self, params: dict, who: str = "adam", headers: dict | None = None):
        auth = {"Authorization": "Bearer " + self.tokens[who]} if who else {}
        return self.app.test_client().get(
            "/api/statements/export?" + urlencode(params), headers={**auth, **(headers or {})}
        )

    def page_client(self, who: str):
        client = self.app.test_client()
        account_id, epoch = self.accounts[who]
        with client.session_transaction() as cookie:
            cookie.update({"account_id": account_id, "epoch": epoch, "at": int(time.time())})
        return client


@pytest.fixture(scope="module")
def org(app):
    return Org(app)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """A few statements per read, so every export crosses many chunk boundaries."""
    monkeypatch.setattr(export, "CHUNK", 7)


def xapi_pages(org: Org, params: dict, headers: dict | None = None) -> list[dict]:
    """Every statement GET /xapi/statements returns for ``params``, following ``more``."""
    found: list[dict] = []
    path = "/statements?" + urlencode({**params, "limit": 5})
    while path:
        answer = org.xapi.get(path, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        found += body["statements"]
        path = body["more"].removeprefix("/xapi") if body["more"] else ""
    return found


def ndjson(answer) -> list[dict]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    text = answer.get_data(as_text=True)
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def csv_rows(answer) -> list[dict]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    reader = csv.reader(io.StringIO(answer.get_data(as_text=True), newline=""))
    header = next(reader)
    assert tuple(header) == export.CSV_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


FILTERS = [
    {},
    {"agent": json.dumps(ANN)},
    {"agent": json.dumps({"mbox": "mailto:ann@example.com"}), "related_agents": "true"},
    {"agent": json.dumps(TEAM)},
    {"verb": ATTEMPTED},
    {"activity": f"{LESSON}2"},
    {"activity": COURSE, "related_activities": "true"},
    {"activity": COURSE},  # only in context: no direct match
    {"registration": REGISTRATION},
    {"verb": COMPLETED, "agent": json.dumps(BEN), "activity": f"{LESSON}1"},
    {"ascending": "true"},
    {"verb": COMPLETED, "ascending": "true", "related_activities": "false"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_every_filter_exports_what_get_statements_pages_through(org, filters):
    expected = xapi_pages(org, filters)
    exported = ndjson(org.api(filters))
    assert [s["id"] for s in exported] == [s["id"] for s in expected]
    assert exported == expected
    if filters not in ({"activity": COURSE},):
        assert exported, "each filter but the context-only one matches something"


def test_since_and_until_are_stored_times_as_in_get(org):
    stored = sorted({s["stored"] for s in xapi_pages(org, {})})
    assert len(stored) >= 3
    window = {"since": stored[0], "until": stored[-2]}
    expected = xapi_pages(org, window)
    assert ndjson(org.api(window)) == expected
    assert expected and all(stored[0] < s["stored"] <= stored[-2] for s in expected)


@pytest.mark.parametrize("statement_format", ["ids", "canonical", "exact"])
def test_the_statement_format_is_gets_format(org, statement_format):
    params = {"verb": COMPLETED}
    headers = {"Accept-Language": "de"}
    expected = xapi_pages(org, {**params, "format": statement_format}, headers)
    exported = ndjson(org.api({**params, "statement_format": statement_format}, headers=headers))
    assert exported == expected
    if statement_format == "ids":
        assert all("display" not in s["verb"] for s in exported)
    if statement_format == "canonical":
        # The voiding statement refers to a completed one, so it matches too (as in GET).
        displays = {s["verb"]["display"]["de"] for s in exported if s["verb"]["id"] == COMPLETED}
        assert displays == {"abgeschlossen"}


def test_everything_is_newest_first_by_default_and_voided_statements_are_left_out(org):
    exported = ndjson(org.api({}))
    ids = [s["id"] for s in exported]
    assert len(ids) == len(set(ids)) == 60  # 60 statements and the voiding one, less the voided
    assert org.voided_id not in ids
    assert ids[0] == org.voiding_id
    assert [s["stored"] for s in exported] == sorted((s["stored"] for s in exported), reverse=True)
    oldest_first = [s["id"] for s in ndjson(org.api({"ascending": "true"}))]
    assert oldest_first[0] == org.ids[0] and oldest_first[-1] == org.voiding_id


def test_csv_parses_and_its_json_column_is_the_statement(org):
    rows = csv_rows(org.api({"format": "csv"}))
    statements = ndjson(org.api({}))
    assert [json.loads(r["statement"]) for r in rows] == statements
    assert [r["id"] for r in rows] == [s["id"] for s in statements]


def test_csv_columns_are_flat_and_formulas_are_defused(org):
    rows = {r["id"]: r for r in csv_rows(org.api({"format": "csv"}))}
    first = rows[org.ids[1]]  # statement(1): Ben completed lesson 1, score -3
    assert first["actor_name"] == "Ben"
    assert first["actor_ifi"] == "account:https://sso.example.com|ben"
    assert first["verb_id"] == COMPLETED and first["verb_display"] == "completed"  # en-US
    assert first["object_id"] == f"{LESSON}1" and first["object_type"] == "Activity"
    assert first["object_name"] == "Lesson 1"  # en, not the first language
    assert (first["result_success"], first["result_completion"]) == ("true", "true")
    assert (first["result_score_scaled"], first["result_score_raw"]) == ("-0.5", "-3")
    assert first["result_duration"] == "PT1M"
    assert first["timestamp"] == "2026-01-01T00:00:01Z" and first["stored"]
    assert first["authority_name"]
    zero = rows[org.ids[0]]  # statement(0): Ann attempted lesson 0 in the registration
    assert zero["actor_ifi"] == "mailto:ann@example.com"
    assert zero["verb_display"] == "essayé"  # no English: the first language
    assert zero["result_success"] == "" and zero["result_score_raw"] == ""
    assert zero["context_registration"] == REGISTRATION
    assert zero["context_platform"] == "'-platform"  # a leading minus is a formula
    assert zero["parent_ids"] == COURSE
    mallory = rows[org.ids[2]]
    assert mallory["actor_name"] == '\'=HYPERLINK("http://evil.example")'
    assert mallory["actor_ifi"] == "mbox_sha1sum:" + "a" * 40
    assert json.loads(mallory["statement"])["actor"]["name"].startswith("=")
    assert rows[org.ids[3]]["actor_ifi"] == "openid:https://id.example.com/olga"
    team = rows[org.ids[4 + 5]]  # statement(9): the Team acts on Ann
    assert (team["actor_name"], team["actor_ifi"]) == ("Team", "mailto:team@example.com")
    assert (team["object_type"], team["object_id"], team["object_name"]) == (
        "Agent",
        "mailto:ann@example.com",
        "Ann",
    )
    voiding = rows[org.voiding_id]
    assert (voiding["object_type"], voiding["object_id"]) == ("StatementRef", org.voided_id)


def test_statements_are_read_a_chunk_at_a_time(org):
    """What bounds memory: no read holds more than CHUNK statements, however many match."""
    with read_transaction(org.sessions) as db:
        store_id = require_store(db, org.store).id
        parsed = export.parse_export({"ascending": "true"})
        sizes = [len(chunk) for chunk in export.iter_statements(db, store_id, parsed.query, [])]
    assert sum(sizes) == 60 and max(sizes) == 7 and len(sizes) == 9


def test_an_export_that_matches_nothing_is_empty(org):
    nothing = {"verb": "http://example.com/verbs/never"}
    empty = org.api(nothing)
    assert empty.status_code == 200 and empty.get_data() == b""
    assert csv_rows(org.api({**nothing, "format": "csv"})) == []


def test_the_download_is_named_and_typed(org):
    ndjson_answer = org.api({})
    assert ndjson(ndjson_answer)  # read: a stream left unread is closed outside its request
    assert ndjson_answer.mimetype == "application/x-ndjson"
    disposition = ndjson_answer.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="statements-{org.store}-')
    assert disposition.endswith('.ndjson"')
    csv_answer = org.api({"format": "csv"})
    assert csv_rows(csv_answer)
    assert csv_answer.mimetype == "text/csv"
    assert csv_answer.headers["Content-Disposition"].endswith('.csv"')
    assert csv_answer.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "params, name",
    [
        ({"format": "xml"}, "format"),
        ({"statement_format": "full"}, "statement_format"),
        ({"agent": "ann@example.com"}, "agent"),
        ({"agent": json.dumps({"mbox": "ann@example.com"})}, "agent.mbox"),
        ({"verb": "not an iri"}, "verb"),
        ({"activity": "lesson 1"}, "activity"),
        ({"registration": "12345"}, "registration"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"ascending": "yes"}, "ascending"),
        ({"related_agents": "1"}, "related_agents"),
        ({"limit": "10"}, "limit"),
        ({"more": "abc"}, "more"),
        ({"statementId": str(uuid.uuid4())}, "statementId"),
        ({"attachments": "true"}, "attachments"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_wrong_parameter_is_a_json_400_naming_it(org, params, name):
    answer = org.api(params)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["status"] == 400 and body["message"].startswith(name)
    assert body["errors"][0]["path"] == name


def test_a_repeated_parameter_is_a_400_naming_it(org):
    answer = org.app.test_client().get(
        f"/api/statements/export?verb={COMPLETED}&verb={ATTEMPTED}",
        headers={"Authorization": "Bearer " + org.tokens["adam"]},
    )
    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["path"] == "verb"


def test_only_admins_may_export(org):
    anonymous = org.api({}, who=None)
    assert anonymous.status_code == 401 and anonymous.get_json()["status"] == 401
    learner = org.api({}, who="lea")
    assert learner.status_code == 403 and learner.get_json()["status"] == 403
    assert b"mailto:" not in learner.get_data()
    assert org.api({"format": "xml"}, who="lea").status_code == 403  # the role before the input


def test_the_statements_page_downloads_without_javascript(org):
    admin = org.page_client("adam")
    page = admin.get("/admin/statements?verb=" + ATTEMPTED)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'name="verb" value="{ATTEMPTED}"' in html  # the filter shown is the one exported
    assert 'method="get" action="/admin/statements/export"' in html  # a plain link: no script
    assert 'name="format"' in html
    answer = admin.get(
        "/admin/statements/export?"
        + urlencode({"verb": ATTEMPTED, "agent": "ann@example.com", "format": "csv"})
    )
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(answer)
    expected = xapi_pages(org, {"verb": ATTEMPTED, "agent": json.dumps(ANN)})
    assert [json.loads(r["statement"]) for r in rows] == expected and rows
    bad = admin.get("/admin/statements/export?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.get_data(as_text=True)
    learner = org.page_client("lea").get("/admin/statements/export")
    assert learner.status_code == 403
    assert "mailto:" not in learner.get_data(as_text=True)


def run_cli(backend, *args):
    return CliRunner().invoke(
        main,
        ["statements", "export", *args],
        env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_DEBUG": ""},
        prog_name="learnloop",
    )


def test_the_command_exports_to_stdout_or_a_file(org, backend, tmp_path):
    done = run_cli(backend, "--store", org.store, "--verb", COMPLETED, "--ascending")
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == xapi_pages(org, {"verb": COMPLETED, "ascending": "true"})
    assert f"exported {len(lines)} statements" in done.stderr
    target = tmp_path / "out.csv"
    done = run_cli(
        backend, "--store", org.store, "--format", "csv", "--agent", "ann@example.com",
        "--related-agents", "--statement-format", "ids", "--output", str(target),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stdout == ""
    rows = csv_rows_of(target.read_text(encoding="utf-8"))
    expected = xapi_pages(
        org, {"agent": json.dumps(ANN), "related_agents": "true", "format": "ids"}
    )
    assert [json.loads(r["statement"]) for r in rows] == expected and rows
    assert not (tmp_path / "out.csv.partial").exists()


def csv_rows_of(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--since", "yesterday"], "--since"),
        (["--verb", "completed"], "--verb"),
        (["--agent", '{"mbox":"ann"}'], "--agent"),
        (["--format", "xml"], "--format"),
    ],
)
def test_the_command_names_a_bad_option_in_one_line(org, backend, tmp_path, args, words):
    target = tmp_path / "never.ndjson"
    done = run_cli(backend, "--store", org.store, "--output", str(target), *args)
    assert done.exit_code == 2
    assert words in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert not target.exists()
