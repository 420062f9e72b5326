"""Journey 10, Operate: an operator runs Learnloop on PostgreSQL with several nodes and a worker.

They configure it, run ``db upgrade`` and ``doctor``, make a mistake or two and read one line
each time, start two web nodes and a queue worker, watch ``/health`` and ``/metrics`` while
clients write through both nodes, read the audit trail, back up while it serves, restore into a
new database, and upgrade an older installation. Everything goes through the ``learnloop``
command, HTTP and what they print: nothing is imported from the code under test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.journeys.support import LEARNLOOP, free_port, instance_environment

VERSION = {"X-Experience-API-Version": "2.0.0"}
SECRET_KEY = "operate-journey-" + "k" * 40


class Installation:
    """The operator's shell: one configuration, and the processes started from it."""

    def __init__(self, instance: Path, database_url: str, pg_bindir: Path | None) -> None:
        self.instance = instance
        self.env = {
            **instance_environment(instance, database_url),
            "LEARNLOOP_SECRET_KEY": SECRET_KEY,
            "LEARNLOOP_PUBLIC_URL": "https://learn.example.com",
        }
        if pg_bindir is not None:
            self.env["LEARNLOOP_PG_BINDIR"] = str(pg_bindir)
        self.processes: list[subprocess.Popen] = []

    def run(self, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if database_url:
            env["LEARNLOOP_DATABASE_URL"] = database_url
        done = subprocess.run(
            [str(LEARNLOOP), *args], env=env, capture_output=True, text=True, timeout=180
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args: str, **kw) -> str:
        done = self.run(*args, **kw)
        assert done.returncode == 0, f"learnloop {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, *args: str, database_url: str | None = None) -> subprocess.Popen:
        env = dict(self.env)
        if database_url:
            env["LEARNLOOP_DATABASE_URL"] = database_url
        log = open(self.instance.parent / f"{args[0]}-{len(self.processes)}.log", "w")
        with log:
            process = subprocess.Popen(
                [str(LEARNLOOP), *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def wait_until_ready(base: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(base + "/health/ready", timeout=3)
            if last.status_code == 200:
                return last.json()
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} never became ready: {last and last.text}")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"{name}(?:{{(.*)}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def statement(n: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:learner{n % 7}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"http://example.com/courses/c{n % 5}"},
    }


@pytest.fixture
def installation(postgres_server, tmp_path):
    url = postgres_server.create_database(f"operate_{uuid.uuid4().hex[:8]}")
    made = Installation(tmp_path / "instance", url, postgres_server.bindir)
    try:
        yield made
    finally:
        made.stop_all()


def test_an_operator_runs_upgrades_watches_audits_backs_up_and_restores(
    installation, postgres_server, tmp_path
):
    op = installation

    # Configure, migrate, check. A mistake first: the tables are not there yet.
    early = op.run("credentials", "create", "--store", "acme", "--create-store")
    assert early.returncode == 1
    assert len(early.stderr.strip().splitlines()) <= 2
    assert "learnloop db upgrade" in early.stderr
    upgraded = op.ok("db", "upgrade")
    applied = re.findall(r"^applied (\w+):", upgraded, re.M)
    assert applied[0] == "0001" and "is now at revision " + applied[-1] in upgraded
    doctor = op.ok("doctor")
    assert re.search(r"^ok\s+migrations\s+at revision " + applied[-1], doctor, re.M)
    assert re.search(r"^ok\s+secret key\s+LEARNLOOP_SECRET_KEY is set", doctor, re.M)

    # A store and a credential, with the values checked the same way everywhere.
    weak = op.run("credentials", "create", "--store", "acme", "--secret", "12345")
    assert weak.returncode == 2 and "at least 16 characters" in weak.stderr
    op.ok("stores", "create", "acme")
    created = op.ok("credentials", "create", "--store", "acme", "--label", "LMS feed")
    key = re.search(r"^key:\s+(\S+)", created, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)", created, re.M).group(1)

    # Two web nodes and one queue worker on the one database.
    ports = [free_port(), free_port()]
    for port in ports:
        op.start("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                 "--no-worker")  # fmt: skip
    op.start("worker")
    nodes = [f"http://127.0.0.1:{port}" for port in ports]
    for node in nodes:
        ready = wait_until_ready(node)
        assert ready["checks"]["migrations"]["ok"] and ready["checks"]["queue"]["ok"]
        assert requests.get(node + "/health/live", timeout=5).status_code == 200
    taken = op.run("serve", "--host", "127.0.0.1", "--port", str(ports[0]))
    assert taken.returncode == 1
    assert taken.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{ports[0]}: address already in use; stop what is "
        "using it or choose another --port"
    ]

    # Clients write through both nodes; each node reads what the other stored.
    written = []
    for n in range(40):
        body = statement(n)
        answer = requests.post(
            nodes[n % 2] + "/xapi/statements", json=body, auth=(key, secret), headers=VERSION,
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Request-Id"]
        written.append(body["id"])
    for statement_id in written[:4]:
        got = requests.get(
            nodes[1] + "/xapi/statements", params={"statementId": statement_id},
            auth=(key, secret), headers=VERSION, timeout=10,
        )  # fmt: skip
        assert got.status_code == 200 and got.json()["id"] == statement_id

    # Metrics per node: each counts its own requests; together they count every statement.
    scraped = [requests.get(node + "/metrics", timeout=10) for node in nodes]
    assert all(s.status_code == 200 for s in scraped)
    stored = sum(metric(s.text, "learnloop_statements_stored_total") for s in scraped)
    assert stored == 40
    posts = [
        metric(s.text, "learnloop_http_requests_total", method="POST", status="200")
        for s in scraped
    ]
    assert posts == [20, 20]
    refused = requests.get(
        nodes[0] + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10
    )
    assert refused.status_code in (401, 403) and refused.json()["message"]

    # The worker drains the queue: readiness stays green and the lag gauge is small.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = requests.get(nodes[0] + "/metrics", timeout=10).text
        if metric(text, "learnloop_queue_due_jobs") == 0:
            break
        time.sleep(0.5)
    assert metric(text, "learnloop_queue_due_jobs") == 0
    assert requests.get(nodes[1] + "/health/ready", timeout=10).status_code == 200

    # The audit trail says who made the store and the credential, from where.
    trail = [json.loads(line) for line in op.ok(
        "audit", "list", "--store", "acme", "--format", "jsonl").splitlines()]  # fmt: skip
    actions = {row["action"]: row for row in trail}
    assert {"store.created", "credential.created"} <= set(actions)
    assert "command line" in json.dumps(actions["credential.created"])
    assert secret not in json.dumps(trail)

    # A backup while clients keep writing.
    acknowledged: list[str] = []
    stop = threading.Event()

    def keep_writing():
        n = 100
        while not stop.is_set():
            body = statement(n)
            answer = requests.post(
                nodes[n % 2] + "/xapi/statements", json=body, auth=(key, secret),
                headers=VERSION, timeout=10,
            )  # fmt: skip
            if answer.status_code == 200:
                acknowledged.append(body["id"])
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.5)
        before_backup = len(acknowledged)
        backup = tmp_path / "learnloop.backup"
        printed = op.ok("backup", str(backup))
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join(30)
    assert backup.exists() and "migration revision " + applied[-1] in printed
    assert before_backup > 0

    # Restore into a new database (another server, after a loss): everything acknowledged
    # before the backup began is there, and the credential works on a node serving it.
    restored_url = postgres_server.create_database(f"restored_{uuid.uuid4().hex[:8]}")
    op.ok("restore", str(backup), database_url=restored_url)
    op.ok("doctor", database_url=restored_url)
    restored_port = free_port()
    op.start("serve", "--host", "127.0.0.1", "--port", str(restored_port), "--workers", "1",
             "--no-worker", database_url=restored_url)  # fmt: skip
    restored = f"http://127.0.0.1:{restored_port}"
    wait_until_ready(restored)
    for statement_id in written + acknowledged[:before_backup]:
        got = requests.get(
            restored + "/xapi/statements", params={"statementId": statement_id},
            auth=(key, secret), headers=VERSION, timeout=10,
        )  # fmt: skip
        assert got.status_code == 200, (statement_id, got.text)


def test_an_older_installation_is_upgraded_with_db_upgrade(installation, postgres_server):
    """A node of the new release refuses the old schema in one line; db upgrade brings it up."""
    op = installation
    older = postgres_server.create_database(f"older_{uuid.uuid4().hex[:8]}")
    _older_schema(older)  # the previous release's schema
    refused = op.run("serve", "--port", str(free_port()), database_url=older)
    assert refused.returncode == 1
    assert "is at revision 0018" in refused.stderr
    assert "learnloop db upgrade" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 2
    doctor = op.run("doctor", database_url=older)
    assert doctor.returncode == 1
    assert re.search(r"^FAIL\s+migrations\s+the database is at 0018", doctor.stdout, re.M)
    upgraded = op.ok("db", "upgrade", database_url=older)
    assert upgraded.startswith("applied 0019: ")
    assert "nothing to apply" in op.ok("db", "upgrade", database_url=older)
    assert op.run("doctor", database_url=older).returncode == 0


def _older_schema(url: str) -> None:
    """The database as the previous release (migrations up to 0018) left it."""
    script = (
        "import sys; from alembic import command; from alembic.config import Config; "
        "import migrations, os; here = os.path.dirname(migrations.__file__); "
        "cfg = Config(os.path.join(here, 'alembic.ini')); "
        "cfg.set_main_option('script_location', here); "
        "cfg.set_main_option('sqlalchemy.url', sys.argv[1].replace('%', '%%')); "
        "command.upgrade(cfg, '0018')"
    )
    subprocess.run(
        [str(LEARNLOOP.parent / "python"), "-c", script, url],
        check=True,
        capture_output=True,
        timeout=120,
    )
