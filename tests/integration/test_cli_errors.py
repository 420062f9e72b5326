"""Every ``learnloop`` command, given each kind of bad input, answers in a line or two (issue 16).

What a user sees: a short message on stderr that says what is wrong and what to do, a non-zero
exit code, and never a traceback (``--debug`` shows one). The commands are walked from the
command tree itself, so a new command without an entry in ``VALID`` fails here until someone
says what it takes.
"""

import os
import subprocess
import sys
from dataclasses import dataclass

import click
import pytest
from click.testing import CliRunner

from learnloop.cli import main, upgrade_database

#: Arguments that would make each command do its work (placeholders filled per test).
VALID = {
    "db upgrade": [],
    "doctor": [],
    "serve": [],
    "worker": [],
    "demo": [],
    "backup": ["{tmp}/backup.file"],
    "restore": ["{tmp}/backup.file"],
    "credentials create": ["--store", "{store}"],
    "accounts create": ["--store", "{store}", "--email", "ann@acme.test",
                        "--password", "a-long-password-1"],
    "accounts list": ["--store", "{store}"],
    "accounts disable": ["--store", "{store}", "--email", "ann@acme.test"],
    "accounts enable": ["--store", "{store}", "--email", "ann@acme.test"],
    "accounts reset-password": ["--store", "{store}", "--email", "ann@acme.test"],
    "accounts invite": ["--store", "{store}", "--email", "ann@acme.test"],
    "objectives refresh": ["--store", "{store}"],
    "lti register": ["--store", "{store}", "--issuer", "https://lms.example",
                     "--client-id", "c1", "--login-url", "https://lms.example/login",
                     "--token-url", "https://lms.example/token",
                     "--keyset-url", "https://lms.example/jwks"],
    "lti rotate-keys": [],
    "lti reseal-keys": [],
    "lti invite": ["--store", "{store}"],
    "connectors create": ["--store", "{store}", "--kind", "github"],
    "connectors list": ["--store", "{store}"],
    "connectors rotate-secret": ["1", "--store", "{store}"],
    "connectors reseal-secrets": [],
    "sign-in show": ["--store", "{store}"],
    "sign-in set": ["--store", "{store}", "--domains", "acme.test"],
    "sign-in reseal-secrets": [],
    "secrets reseal": [],
    "people link": ["--store", "{store}", "--email", "ann@acme.test", "--name", "Ann"],
    "people import": ["{tmp}/people.csv", "--store", "{store}"],
    "people list": ["--store", "{store}"],
    "people erase": ["--store", "{store}", "--email", "ann@acme.test", "--dry-run"],
    "retention show": ["--store", "{store}"],
    "retention set": ["--store", "{store}", "--months", "12", "--dry-run"],
    "retention clear": ["--store", "{store}"],
    "import microlearning": ["{tmp}/events.json", "--store", "{store}",
                             "--platform", "https://micro.example"],
    "import github": ["--repo", "acme/app", "--from", "{tmp}", "--store", "{store}"],
    "scim token create": ["--store", "{store}"],
    "scim token list": ["--store", "{store}"],
    "scim token revoke": ["--store", "{store}", "1"],
    "stores create": ["new-store"],
    "stores list": [],
    "cycles create": ["--store", "{store}", "--name", "2027", "--starts", "2027-01-01",
                      "--ends", "2027-12-31"],
    "cycles close": ["--store", "{store}", "--name", "2027"],
    "cycles list": ["--store", "{store}"],
    "reviews create": ["--store", "{store}", "--cycle", "2027", "--team", "ann@acme.test"],
    "audit list": ["--store", "{store}"],
    "forwarding add": ["--store", "{store}", "--name", "archive", "--endpoint",
                       "https://lrs.example/xapi", "--key", "k1", "--secret", "s3cret-value"],
    "forwarding rule": ["--store", "{store}", "--name", "archive", "--verb",
                        "http://adlnet.gov/expapi/verbs/completed"],
    "forwarding list": ["--store", "{store}"],
    "forwarding log": ["--store", "{store}", "--name", "archive"],
    "forwarding resume": ["--store", "{store}", "--name", "archive"],
    "forwarding replay": ["--store", "{store}", "--name", "archive", "--since", "2026-12-01"],
    "forwarding remove": ["--store", "{store}", "--name", "archive"],
    "webhooks add": ["--store", "{store}", "--url", "https://hooks.example/learnloop"],
    "webhooks list": ["--store", "{store}"],
    "webhooks test": ["--store", "{store}", "1"],
    "webhooks log": ["--store", "{store}", "1"],
    "statements export": ["--store", "{store}", "--format", "csv"],
    "oauth revoke-tokens": ["--store", "{store}", "--key", "k1"],
    "notifications digest": ["--store", "{store}"],
}  # fmt: skip

#: Long-running commands: they are checked for bad configuration only (they would serve).
SERVING = {"serve", "worker", "demo"}


def leaf_commands(group=main, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield " ".join((*path, name))


COMMANDS = list(leaf_commands())


def test_every_command_has_valid_arguments_listed_here():
    missing = [c for c in COMMANDS if c not in VALID]
    assert not missing, f"add these commands to VALID: {missing}"


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def output(self):
        return self.stdout + self.stderr


def invoke(args, env):
    """Run in this process; a command that would serve runs as a real one, with a time limit."""
    base = {
        "LEARNLOOP_DEBUG": "",
        "LEARNLOOP_PUBLIC_URL": "https://ll.example",
        "LEARNLOOP_OLD_SECRET_KEY": "the-sealing-key-before-this-one",
    }
    if args and args[0] in SERVING:
        done = run(args, {**base, **env})
        return Ran(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(main, args, env={**base, **env}, input="", prog_name="learnloop")
    return Ran(result.exit_code, result.stdout, result.stderr, result.exception)


def assert_short_error(result, *expected):
    """A non-zero exit, at most two lines on stderr, no traceback, nothing raised past click."""
    shown = result.stderr.strip()
    assert result.exit_code not in (0, None), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert shown, "the error must go to stderr"
    assert len(shown.splitlines()) <= 2, shown
    for words in expected:
        assert words in shown, shown


def args_for(command, tmp_path, store="acme"):
    return command.split() + [a.format(tmp=tmp_path, store=store) for a in VALID.get(command, ())]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "people.csv").write_text("email,name\nann@acme.test,Ann\n")
    (tmp_path / "events.json").write_text("[]")
    (tmp_path / "backup.file").write_bytes(b"not a backup")
    return tmp_path


# ---- The database is wrong: every command that opens it --------------------------------------


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in SERVING])
def test_a_database_without_tables_says_run_db_upgrade(command, files):
    if command in ("db upgrade", "backup", "restore"):
        pytest.skip("these work on a database without tables")
    url = f"sqlite:///{files / 'empty.sqlite3'}"
    result = invoke(args_for(command, files), {"LEARNLOOP_DATABASE_URL": url})
    if command == "doctor":
        assert result.exit_code != 0 and "learnloop db upgrade" in result.output
        return
    assert_short_error(result, "learnloop db upgrade")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "url, words",
    [
        ("notaurl", "is not a database URL"),
        ("mysql://u@h/db", "SQLite or PostgreSQL"),
        ("postgres://u@h/db", "postgresql+psycopg://"),
        ("sqlite:////no/such/folder/ll.sqlite3", "does not exist"),
    ],
)
def test_a_bad_database_url_is_one_line(command, url, words, files):
    result = invoke(args_for(command, files), {"LEARNLOOP_DATABASE_URL": url})
    if command == "doctor":
        assert result.exit_code != 0 and words in result.output
        return
    assert_short_error(result, "LEARNLOOP_DATABASE_URL", words)
    assert not os.path.exists("/no/such/folder")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in SERVING])
def test_an_unreachable_postgresql_is_one_line_without_the_password(command, files):
    url = "postgresql+psycopg://ll:pa55word-x@127.0.0.1:1/learnloop"
    result = invoke(args_for(command, files), {"LEARNLOOP_DATABASE_URL": url})
    assert "pa55word-x" not in result.output
    if command == "doctor":
        assert result.exit_code != 0 and "cannot reach" in result.output
        return
    if command == "backup" or command == "restore":
        assert_short_error(result)
        return
    assert_short_error(result, "cannot reach", "127.0.0.1")


# ---- The values are wrong ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'll.sqlite3'}"
    upgrade_database(url)
    result = invoke(["stores", "create", "acme"], {"LEARNLOOP_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return url


def replaced(command, tmp_path, option, value):
    args = args_for(command, tmp_path)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


BAD_VALUES = [
    # (command, option, value, words in the message)
    ("accounts create", "--email", "not-an-email", "not an email address"),
    ("accounts invite", "--email", "ann@", "not an email address"),
    ("accounts disable", "--email", "ann at acme", "not an email address"),
    ("accounts enable", "--email", "@acme.test", "not an email address"),
    ("accounts reset-password", "--email", "ann", "not an email address"),
    ("people link", "--email", "ann@acme", "not an email address"),
    ("people erase", "--email", "ann@acme", "not an email address"),
    ("retention set", "--months", "0", "--months"),
    ("reviews create", "--team", "boss", "not an email address"),
    ("import microlearning", "--platform", "micro", "not a URL"),
    ("accounts create", "--password", "short", "at least 12 characters"),
    ("credentials create", "--secret", "12345", "at least 16 characters"),
    ("credentials create", "--secret", "aaaaaaaaaaaaaaaaaaaa", "at least 16 characters"),
    ("connectors create", "--signing-token", "tiny", "at least 16 characters"),
    ("lti rotate-keys", "--grace-days", "-5", "--grace-days"),
    ("lti invite", "--days", "0", "--days"),
    ("lti invite", "--base-url", "not-a-url", "not a URL"),
    ("lti register", "--issuer", "lms.example", "not a URL"),
    ("lti register", "--login-url", "ftp://lms.example/login", "not a URL"),
    ("lti register", "--token-url", "https://", "not a URL"),
    ("lti register", "--keyset-url", "jwks", "not a URL"),
    ("people link", "--github-url", "github.com", "not a URL"),
    ("sign-in set", "--issuer", "accounts.google.com", "not a URL"),
    ("serve", "--port", "99999", "--port"),
    ("serve", "--port", "0", "--port"),
    ("serve", "--workers", "0", "--workers"),
    ("serve", "--threads", "-1", "--threads"),
    ("demo", "--port", "70000", "--port"),
    ("worker", "--poll", "-1", "--poll"),
    ("worker", "--lease", "0", "--lease"),
    ("worker", "--max-attempts", "0", "--max-attempts"),
    ("import microlearning", "--chunk-size", "0", "--chunk-size"),
    ("cycles create", "--starts", "yesterday", "--starts"),
    ("cycles create", "--ends", "2026-01-01", "before the first day"),
    ("people import", "", "", ""),
]


@pytest.mark.parametrize(
    "command, option, value, words", [b for b in BAD_VALUES if b[1]], ids=lambda v: str(v)
)
def test_a_bad_value_is_named_in_one_line(command, option, value, words, database, files):
    result = invoke(replaced(command, files, option, value), {"LEARNLOOP_DATABASE_URL": database})
    assert_short_error(result, words)


@pytest.mark.parametrize(
    "command", [c for c in COMMANDS if "{store}" in VALID.get(c, ()) and c != "credentials create"]
)
def test_an_unknown_store_is_named_with_how_to_create_it(command, database, files):
    result = invoke(args_for(command, files, store="acmee"), {"LEARNLOOP_DATABASE_URL": database})
    assert_short_error(result, "'acmee'")
    assert "learnloop stores create" in result.stderr


def test_credentials_create_makes_a_store_only_when_told(database, files):
    env = {"LEARNLOOP_DATABASE_URL": database}
    refused = invoke(["credentials", "create", "--store", "fresh"], env)
    assert_short_error(refused, "--create-store")
    made = invoke(["credentials", "create", "--store", "fresh", "--create-store"], env)
    assert made.exit_code == 0, made.output
    assert "key:" in made.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["people", "import", "{tmp}/missing.csv", "--store", "acme"], "does not exist"),
        (["connectors", "rotate-secret", "999", "--store", "acme"], "999"),
        (["scim", "token", "revoke", "--store", "acme", "999"], "999"),
        (["nosuchcommand"], "No such command"),
        (["credentials", "create", "--stor", "acme"], "No such option"),
        (["accounts", "create", "--store", "acme"], "--email"),
    ],
)
def test_a_missing_thing_is_named(args, words, database, files):
    args = [a.format(tmp=files) for a in args]
    result = invoke(args, {"LEARNLOOP_DATABASE_URL": database})
    assert_short_error(result, words)


# ---- As a real process ------------------------------------------------------------------------


def run(args, env):
    return subprocess.run(
        [sys.executable, "-m", "learnloop.cli", *args],
        env={**os.environ, "LEARNLOOP_DEBUG": "", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_real_process_prints_one_line_and_debug_shows_the_traceback(tmp_path):
    env = {"LEARNLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    plain = run(["credentials", "create", "--store", "acme", "--create-store"], env)
    assert plain.returncode == 1
    assert plain.stdout == ""
    assert "Traceback" not in plain.stderr
    assert "learnloop db upgrade" in plain.stderr
    assert len(plain.stderr.strip().splitlines()) <= 2
    debug = run(["--debug", "credentials", "create", "--store", "acme", "--create-store"], env)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr


def test_version_and_db_upgrade_say_what_they_did(tmp_path):
    version = run(["--version"], {})
    assert version.returncode == 0
    assert version.stdout.startswith("learnloop ")
    env = {"LEARNLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    first = run(["db", "upgrade"], env)
    assert first.returncode == 0, first.stderr
    applied = [line for line in first.stdout.splitlines() if line.startswith("applied ")]
    assert applied[0].startswith("applied 0001: ")
    assert len(applied) >= 18
    assert "is now at revision" in first.stdout
    again = run(["db", "upgrade"], env)
    assert "nothing to apply" in again.stdout
    assert "applied" not in again.stdout.replace("nothing to apply", "")


@pytest.mark.parametrize(
    "variable, value",
    [
        ("LEARNLOOP_LTI_LOGIN_SECONDS", "abc"),
        ("LEARNLOOP_OIDC_LEEWAY_SECONDS", "soon"),
        ("LEARNLOOP_MAX_REQUEST_BYTES", "lots"),
        ("LEARNLOOP_METRICS_TOKEN", "short"),
    ],
)
def test_serve_names_a_bad_setting_of_any_domain_in_one_line(variable, value, database):
    ran = run(["serve", "--port", "1"], {"LEARNLOOP_DATABASE_URL": database, variable: value})
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    assert ran.stderr.strip().startswith("Error: " + variable)
    assert len(ran.stderr.strip().splitlines()) == 1
    assert value not in ran.stderr.replace(variable, "")
