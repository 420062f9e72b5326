"""``learnloop connectors``, ``people link`` and ``import`` with CliRunner, on a real database.

The commands open the database named by LEARNLOOP_DATABASE_URL, which here is the test app's
(SQLite file or real PostgreSQL), so what they store is checked through the HTTP API.
"""

import json
import re

import pytest
from click.testing import CliRunner

from connectors import profile as p
from learnloop.cli import main, upgrade_database
from tests.connectors.conftest import FIXTURES, load_fixture
from tests.connectors.test_receivers import create_connector, post_github, statements
from tests.support.databases import fresh_database

TRAILHEAD_CSV = str(FIXTURES / "microlearning" / "trailhead.csv")
TRAILHEAD_MAPPING = str(FIXTURES / "microlearning" / "trailhead.toml")


@pytest.fixture
def run(backend):
    def invoke(*args):
        env = {"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "https://ll.example"}
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


class TestConnectorsCommands:
    def test_create_prints_the_url_and_a_secret_that_verifies_deliveries(self, run, store):
        result = run("connectors", "create", "--store", store.name, "--kind", "github")
        assert result.exit_code == 0, result.output
        connector_id = int(re.search(r"connector: (\d+) \(github\)", result.output)[1])
        assert f"url:       https://ll.example/connectors/github/{connector_id}" in result.output
        secret = re.search(r"secret:    (\S+)", result.output)[1]
        connector = {"id": connector_id, "secret": secret}
        response = post_github(store, connector, "pull_request.opened")
        assert response.status_code == 202

        listed = run("connectors", "list", "--store", store.name)
        assert f"{connector_id}\tgithub\thttps://ll.example/connectors/github/{connector_id}" in (
            listed.output
        )
        assert secret not in listed.output

    def test_rotate_secret_prints_a_new_one(self, run, store):
        connector = create_connector(store)
        result = run("connectors", "rotate-secret", str(connector["id"]), "--store", store.name)
        assert result.exit_code == 0
        assert connector["secret"] not in result.output and "secret:" in result.output

    def test_an_unknown_store_is_an_error_not_a_traceback(self, run):
        result = run("connectors", "create", "--store", "nowhere", "--kind", "gitlab")
        assert result.exit_code == 1
        assert "no store named 'nowhere'" in result.output


class TestPeopleLink:
    def test_link_attaches_forge_logins_to_a_person(self, run, store):
        result = run(
            "people",
            "link",
            "--store",
            store.name,
            "--email",
            "ann@example.com",
            "--name",
            "Ann Smith",
            "--github",
            "ann-codes",
            "--gerrit",
            "ann",
            "--gerrit-url",
            "https://review.example.com",
        )
        assert result.exit_code == 0, result.output
        assert '"account": {"homePage": "https://github.com", "name": "ann-codes"}' in result.output
        github_agent = {"account": {"homePage": "https://github.com", "name": "ann-codes"}}
        person = store.xapi.get("/agents", query_string={"agent": json.dumps(github_agent)})
        assert person.get_json()["mbox"] == ["mailto:ann@example.com"]
        assert len(person.get_json()["account"]) == 2

    def test_linking_someone_elses_login_fails_with_the_reason(self, run, store):
        run("people", "link", "--store", store.name, "--email", "a@example.com", "--github", "x")
        result = run(
            "people", "link", "--store", store.name, "--email", "b@example.com", "--github", "x"
        )
        assert result.exit_code == 1 and "already belongs to person" in result.output

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--github", "x"], "exactly one of --person and --email"),
            (["--email", "a@example.com", "--gerrit", "a"], "--gerrit needs --gerrit-url"),
        ],
    )
    def test_usage_errors(self, run, store, args, message):
        result = run("people", "link", "--store", store.name, *args)
        assert result.exit_code == 2 and message in result.output


class TestImportMicrolearning:
    def test_an_export_is_stored_skipping_duplicates_and_rejecting_bad_rows(self, run, store):
        result = run(
            "import",
            "microlearning",
            TRAILHEAD_CSV,
            "--store",
            store.name,
            "--mapping",
            TRAILHEAD_MAPPING,
        )
        assert result.exit_code == 1  # rows were rejected
        assert "trailhead.csv: 9 rows" in result.output
        assert "stored:               5 rows (6 statements)" in result.output
        assert "skipped (duplicates): 1 row" in result.output  # row 9 repeats row 1
        assert "rejected:             3 rows" in result.output
        assert "row 6: email: 'carol-at-example.com' is not an e-mail address" in result.output
        assert "row 7: kind: unknown value 'Certification'" in result.output
        assert "row 8: points: 'lots' is not a number" in result.output

        stored = statements(store)
        assert len(stored) == 6
        ranks = statements(store, verb=p.ACHIEVED)
        assert ranks[0]["object"]["id"] == "https://trailhead.salesforce.com/ranks/ranger"
        assert ranks[0]["authority"]["name"] == "Learnloop connector:microlearning"

        again = run(
            "import",
            "microlearning",
            TRAILHEAD_CSV,
            "--store",
            store.name,
            "--mapping",
            TRAILHEAD_MAPPING,
        )
        assert "stored:               0 rows" in again.output
        assert "skipped (duplicates): 6 rows" in again.output
        assert len(statements(store)) == 6

    def test_a_dry_run_stores_nothing(self, run, store):
        result = run(
            "import",
            "microlearning",
            TRAILHEAD_CSV,
            "--store",
            store.name,
            "--mapping",
            TRAILHEAD_MAPPING,
            "--dry-run",
            "--chunk-size",
            "2",
        )
        assert "(dry run: nothing stored)" in result.output
        assert "would store:          5 rows (6 statements)" in result.output
        assert "skipped (duplicates): 1 row" in result.output
        assert statements(store) == []

    def test_learnloops_own_format_needs_only_the_platform(self, run, store):
        path = str(FIXTURES / "microlearning" / "learnloop-format.json")
        result = run(
            "import",
            "microlearning",
            path,
            "--store",
            store.name,
            "--platform",
            "https://learn.example.com",
        )
        assert result.exit_code == 0, result.output
        assert "stored:               5 rows (6 statements)" in result.output
        points = statements(store, verb=p.EARNED)
        assert sorted(
            s["result"]["score"]["raw"] for s in points if "score" in s.get("result", {})
        ) == [
            50,
            500,
        ]

    def test_a_bad_mapping_is_a_usage_error_naming_the_field(self, run, store, tmp_path):
        mapping = tmp_path / "m.json"
        mapping.write_text(json.dumps({"platform": "https://x.example", "kind": "quiz"}))
        result = run(
            "import",
            "microlearning",
            TRAILHEAD_CSV,
            "--store",
            store.name,
            "--mapping",
            str(mapping),
        )
        assert result.exit_code == 2 and "mapping: kind: must be one of" in result.output


def write_delivery(directory, name, guid, payload=None, repo=None):
    payload = payload or load_fixture("github", name)
    if repo:
        payload["repository"]["full_name"] = repo
    item = {
        "guid": guid,
        "event": name.split(".")[0],
        "delivered_at": "2019-05-15T15:20:34Z",
        "request": {"headers": {"X-GitHub-Event": name.split(".")[0]}, "payload": payload},
    }
    (directory / f"{guid}.json").write_text(json.dumps(item))


class TestImportGitHub:
    def test_stored_deliveries_are_replayed_through_the_webhook_mapping(self, run, store, tmp_path):
        connector = create_connector(store)
        # One delivery already arrived through the webhook: the backfill must not repeat it.
        post_github(store, connector, "pull_request.opened", delivery="g-opened")
        write_delivery(tmp_path, "pull_request.opened", "g-opened")
        write_delivery(tmp_path, "pull_request_review.approved", "g-approved")
        write_delivery(tmp_path, "pull_request_review_comment.created", "g-comment")
        write_delivery(tmp_path, "pull_request.closed_unmerged", "g-closed")
        write_delivery(tmp_path, "issue_comment.created", "g-other", repo="someone/else")
        early = load_fixture("github", "issue_comment.created")
        early["comment"]["created_at"] = "2019-05-01T00:00:00Z"
        write_delivery(tmp_path, "issue_comment.created", "g-early", payload=early)
        (tmp_path / "broken.json").write_text('{"event": "pull_request"}')

        result = run(
            "import",
            "github",
            "--repo",
            "codertocat/hello-world",
            "--since",
            "2019-05-15",
            "--from",
            str(tmp_path),
            "--store",
            store.name,
        )
        assert "stored:               2 rows (3 statements)" in result.output
        assert "ignored events:       1 row" in result.output
        assert "skipped (duplicates): 1 row" in result.output
        assert "skipped (filtered):   2 rows" in result.output
        assert "broken.json: guid: is required" in result.output
        assert result.exit_code == 1
        assert len(statements(store)) == 4  # 1 from the webhook + 3 replayed

        again = run(
            "import",
            "github",
            "--repo",
            "Codertocat/Hello-World",
            "--from",
            str(tmp_path),
            "--connector",
            str(connector["id"]),
        )
        # Without --since the early comment is new; everything else was recorded already.
        assert "stored:               1 row (1 statement)" in again.output
        assert "skipped (duplicates): 4 rows" in again.output
        assert len(statements(store)) == 5

    def test_a_replayed_statement_is_identical_to_the_webhooks(self, run, store, tmp_path):
        connector = create_connector(store)
        write_delivery(tmp_path, "pull_request_review.approved", "same-guid")
        run(
            "import",
            "github",
            "--repo",
            "Codertocat/Hello-World",
            "--from",
            str(tmp_path),
            "--store",
            store.name,
        )
        replayed = {s["id"] for s in statements(store)}
        # The live delivery of the same guid is answered as a duplicate with the same ids.
        live = post_github(store, connector, "pull_request_review.approved", delivery="same-guid")
        assert live.status_code == 200 and set(live.get_json()["statement_ids"]) == replayed

    def test_a_store_with_no_github_connector_is_a_usage_error(self, run, store, tmp_path):
        result = run(
            "import", "github", "--repo", "a/b", "--from", str(tmp_path), "--store", store.name
        )
        assert result.exit_code == 2 and "has 0 GitHub connectors" in result.output


def test_an_export_without_the_mapped_columns_is_a_usage_error(run, store):
    result = run(
        "import",
        "microlearning",
        TRAILHEAD_CSV,
        "--store",
        store.name,
        "--platform",
        "https://x.example",
    )
    assert result.exit_code == 2
    assert "the export has no column 'event' nor 'email' or 'account'" in result.output
    assert "Event Id, User Email" in result.output
    assert statements(store) == []


class TestResealSecrets:
    """``learnloop connectors reseal-secrets``: every secret moves to a new sealing key."""

    @pytest.fixture
    def fresh(self, request, backend, tmp_path):
        with fresh_database(request, backend, tmp_path) as url:
            upgrade_database(url)
            yield url

    def test_every_secret_opens_with_the_new_key_and_nothing_changes_on_a_wrong_old_key(
        self, fresh
    ):
        from connectors import services as svc
        from connectors.models import Connector
        from lrs.auth import get_or_create_store
        from lrs.db import make_engine, make_session_factory, write_transaction

        engine = make_engine(fresh)
        sessions = make_session_factory(engine)
        old = svc.secret_box("old key")
        with write_transaction(sessions) as session:
            store = get_or_create_store(session, "reseal")
            github, github_secret = svc.create_connector(session, store.id, "github", old)
            gitlab, gitlab_secret = svc.create_connector(
                session, store.id, "gitlab", old, signing_token="signing token"
            )
            ids = [github.id, gitlab.id]

        def reseal(new, previous=None):
            env = {"LEARNLOOP_DATABASE_URL": fresh, "LEARNLOOP_SECRET_KEY": new}
            if previous is not None:
                env["LEARNLOOP_OLD_SECRET_KEY"] = previous
            return CliRunner().invoke(main, ["connectors", "reseal-secrets"], env=env)

        def secrets_with(key):
            with write_transaction(sessions) as session:
                rows = [session.get(Connector, i) for i in ids]
                return [svc.connector_secrets(row, svc.secret_box(key)) for row in rows]

        try:
            result = reseal("new key", "old key")
            assert result.exit_code == 0, result.output
            assert "connectors resealed: 2; already sealed with the new key: 0" in result.output
            expected = [(github_secret, None), (gitlab_secret, "signing token")]
            assert secrets_with("new key") == expected
            assert (
                "resealed: 0; already sealed with the new key: 2" in reseal("new key", "x").output
            )
            lost = reseal("newest key", "not the key")
            assert lost.exit_code == 1 and "open with neither" in lost.output
            assert secrets_with("new key") == expected
        finally:
            engine.dispose()
