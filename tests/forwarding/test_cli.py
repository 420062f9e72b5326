"""``learnloop forwarding`` and ``learnloop webhooks`` as an operator runs them (SQLite).

Real ``learnloop`` processes against a fresh database: what each command prints, that secrets
are printed only when made (a webhook's signing secret) or never (a destination's secret, read
from $DESTINATION_SECRET), and that a refusal is one line naming what was wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

LEARNLOOP = [sys.executable, "-m", "learnloop.cli"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forwarding-cli")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
    environment["LEARNLOOP_DATABASE_URL"] = f"sqlite:///{folder / 'cli.sqlite3'}"
    environment["LEARNLOOP_INSTANCE_PATH"] = str(folder / "instance")
    run(environment, "db", "upgrade")
    run(environment, "stores", "create", "acme")
    return environment


def run(env, *args, ok=True, extra=None):
    done = subprocess.run(
        LEARNLOOP + list(args),
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode == 0) is ok, done.stdout + done.stderr
    return done.stdout if ok else done.stderr


def test_an_operator_adds_a_destination_with_a_rule_and_manages_it(env):
    added = run(
        env,
        "forwarding", "add", "--store", "acme", "--name", "archive",
        "--endpoint", "https://lrs.example/xapi", "--key", "k1",
        extra={"DESTINATION_SECRET": "the-destination-secret"},
    )  # fmt: skip
    assert added.strip() == "destination archive: https://lrs.example/xapi (basic), active"
    rule = run(
        env, "forwarding", "rule", "--store", "acme", "--name", "archive",
        "--verb", "http://adlnet.gov/expapi/verbs/completed", "--actor-domain", "acme.test",
    )  # fmt: skip
    assert "verb = http://adlnet.gov/expapi/verbs/completed and actor @acme.test" in rule
    listed = run(env, "forwarding", "list", "--store", "acme")
    assert "archive: https://lrs.example/xapi (basic) active, 0 delivered, 0 waiting" in listed
    assert "the-destination-secret" not in listed
    assert run(env, "forwarding", "log", "--store", "acme", "--name", "archive").strip() == (
        "no deliveries yet"
    )
    replay = run(
        env, "forwarding", "replay", "--store", "acme", "--name", "archive",
        "--since", "2026-12-01",
    )  # fmt: skip
    assert "replaying statements stored since 2026-12-01T00:00:00Z" in replay
    assert "active" in run(env, "forwarding", "resume", "--store", "acme", "--name", "archive")
    bad = run(
        env, "forwarding", "rule", "--store", "acme", "--name", "archive", "--source", "email",
        ok=False,
    )  # fmt: skip
    assert (
        bad.strip()
        .splitlines()[-1]
        .endswith("source: must be one of xapi, lti, connector, microlearning, objectives")
    )
    inside = run(
        env, "forwarding", "add", "--store", "acme", "--name", "inside",
        "--endpoint", "https://10.1.2.3/xapi", "--key", "k", "--secret", "s", ok=False,
    )  # fmt: skip
    assert "endpoint:" in inside and "private address" in inside and len(inside.splitlines()) == 1
    run(env, "forwarding", "remove", "--store", "acme", "--name", "archive")
    assert run(env, "forwarding", "list", "--store", "acme").strip() == "no forwarding destinations"


def test_an_operator_adds_a_webhook_endpoint_and_reads_its_secret_once(env):
    added = run(
        env, "webhooks", "add", "--store", "acme", "--url", "https://hooks.example/learnloop",
        "--event", "objective.met",
    )  # fmt: skip
    fields = dict(line.split(":", 1) for line in added.splitlines())
    assert fields["secret"].strip().startswith("whsec_")
    assert fields["events"].strip() == "objective.met"
    listed = run(env, "webhooks", "list", "--store", "acme")
    assert "https://hooks.example/learnloop (objective.met) active" in listed
    assert fields["secret"].strip() not in listed
    endpoint = fields["endpoint"].strip()
    assert run(env, "webhooks", "log", "--store", "acme", endpoint).strip() == "no deliveries yet"
    unknown = run(env, "webhooks", "log", "--store", "acme", "999", ok=False)
    assert "no webhook endpoint 999" in unknown


@pytest.mark.parametrize("command", [["serve", "--port", "65534"], ["worker"]])
def test_a_bad_forwarding_setting_stops_serve_and_worker_in_one_line(env, command):
    said = run(env, *command, ok=False, extra={"LEARNLOOP_FORWARDING_MAX_FAILURES": "0"})
    assert said.strip() == "Error: LEARNLOOP_FORWARDING_MAX_FAILURES must be positive"
