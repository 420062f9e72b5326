"""``learnloop doctor`` as an operator runs it: what it finds and what it says to fix (issue 16)."""

import os
import subprocess
import sys
import time

import pytest

from learnloop.cli import upgrade_database
from lrs.auth import create_store
from lrs.db import make_engine, make_session_factory, write_transaction
from lrs.queue import enqueue


def doctor(env):
    done = subprocess.run(
        [sys.executable, "-m", "learnloop.cli", "doctor"],
        env={**os.environ, "LEARNLOOP_DEBUG": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr
    return done


def lines_of(output, check):
    return [line for line in output.splitlines() if line.split()[1:2] == [check.split()[0]]]


@pytest.fixture
def installed(backend, tmp_path):
    """A migrated database, an instance folder with its secret key, an https public URL."""
    upgrade_database(backend)
    instance = tmp_path / "instance"
    instance.mkdir()
    key = instance / "secret_key"
    key.write_text("k" * 64)
    key.chmod(0o600)
    return {
        "LEARNLOOP_DATABASE_URL": backend,
        "LEARNLOOP_INSTANCE_PATH": str(instance),
        "LEARNLOOP_PUBLIC_URL": "https://127.0.0.1:9",  # nobody answers there
    }


def test_a_ready_installation_passes_with_what_it_warns_about(installed):
    done = doctor(installed)
    assert done.returncode == 0, done.stdout
    out = done.stdout
    assert lines_of(out, "configuration")[0].startswith("ok")
    assert lines_of(out, "database")[0].startswith("ok")
    assert "as the code" in lines_of(out, "migrations")[0]
    assert lines_of(out, "queue")[0].startswith("ok")
    assert "/health/live does not answer" in out
    assert lines_of(out, "secret key")[0].startswith("ok")
    assert out.strip().endswith("warning(s).")


def test_an_old_database_a_stuck_queue_and_an_open_secret_key_are_each_named(installed, backend):
    engine = make_engine(backend)
    sessions = make_session_factory(engine)
    with write_transaction(sessions) as session:
        store = create_store(session, "doctor-test")
        old = int(time.time() * 1000) - 3_600_000
        enqueue(session, store.id, "statements", f"s:{store.id}", now_ms=old)
    engine.dispose()
    key = os.path.join(installed["LEARNLOOP_INSTANCE_PATH"], "secret_key")
    os.chmod(key, 0o644)

    done = doctor({**installed, "LEARNLOOP_READY_MAX_LAG_SECONDS": "60"})
    assert done.returncode == 1
    queue = lines_of(done.stdout, "queue")[0]
    assert queue.startswith("FAIL") and "oldest waiting" in queue
    assert "learnloop worker" in done.stdout
    assert lines_of(done.stdout, "secret key")[0].startswith("FAIL")
    assert f"chmod 600 {key}" in done.stdout
    assert "2 problem(s) to fix" in done.stdout


def test_a_bad_setting_is_named_without_its_value(tmp_path):
    done = doctor(
        {
            "LEARNLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "LEARNLOOP_METRICS_TOKEN": "short-tok",
            "LEARNLOOP_PUBLIC_URL": "ftp://example.com",
            "LEARNLOOP_DELIVERY_LOG_KEEP_DAYS": "a quarter",
        }
    )
    assert done.returncode == 1
    assert "LEARNLOOP_PUBLIC_URL" in done.stdout
    assert "LEARNLOOP_METRICS_TOKEN" in done.stdout
    assert "LEARNLOOP_DELIVERY_LOG_KEEP_DAYS" in done.stdout and "a quarter" not in done.stdout
    assert "short-tok" not in done.stdout
