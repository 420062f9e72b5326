"""The ``learnloop`` command as a user runs it: migrate, create a credential, serve, post.

Real processes: the console script, gunicorn, HTTP on 127.0.0.1; SQLite and PostgreSQL.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from lrs import vocabulary as v

LEARNLOOP = [sys.executable, "-m", "learnloop.cli"]


def run(args, url, **kw):
    env = dict(os.environ, LEARNLOOP_DATABASE_URL=url)
    return subprocess.run(
        LEARNLOOP + args, env=env, capture_output=True, text=True, timeout=120, **kw
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_migrate_create_credential_serve_and_post(database_url, tmp_path):
    upgraded = run(["db", "upgrade"], database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "is now at revision" in upgraded.stdout

    created = run(
        [
            "credentials",
            "create",
            "--store",
            "cli-store",
            "--new-store",
            "--scope",
            "statements/write",
            "--scope",
            "statements/read",
            "--label",
            "CLI test",
        ],
        database_url,
    )
    assert created.returncode == 0, created.stderr
    lines = dict(line.split(":", 1) for line in created.stdout.splitlines())
    key, secret = lines["key"].strip(), lines["secret"].strip()
    assert lines["scopes"].strip() == "statements/write statements/read"
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT secret_hash FROM credentials WHERE key = :k"), {"k": key}
        ).scalar()
    engine.dispose()
    assert stored.startswith("scrypt$") and secret not in stored

    again = run(["credentials", "create", "--store", "cli-store", "--key", key], database_url)
    assert again.returncode != 0 and "already exists" in again.stderr

    port = free_port()
    env = dict(
        os.environ,
        LEARNLOOP_DATABASE_URL=database_url,
        LEARNLOOP_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    server = subprocess.Popen(
        LEARNLOOP + ["serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/xapi"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/about", timeout=2) as response:
                    assert json.load(response)["version"] == ["1.0.3", "2.0.0"]
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("learnloop serve did not answer")
        request = urllib.request.Request(
            base + "/statements",
            method="POST",
            data=json.dumps(
                {
                    "actor": {"mbox": "mailto:cli@example.com"},
                    "verb": {"id": v.EXPERIENCED},
                    "object": {"id": "http://example.com/cli"},
                }
            ).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Experience-API-Version": "1.0.3",
                "Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode(),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert len(json.load(response)) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unknown_scope_is_refused_with_the_list(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    run(["db", "upgrade"], url)
    result = run(
        ["credentials", "create", "--store", "s", "--new-store", "--scope", "everything"], url
    )
    assert result.returncode != 0
    assert "statements/write" in result.stderr


def test_a_credential_for_an_unknown_store_is_refused_unless_asked_to_create_it(tmp_path):
    """Issue 14: "Unknown store → a clear error (never created silently)"."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    run(["db", "upgrade"], url)
    assert run(["credentials", "create", "--store", "acme", "--new-store"], url).returncode == 0
    typo = run(["credentials", "create", "--store", "acmee"], url)
    assert typo.returncode != 0
    assert "no organisation (store) called 'acmee'; there are: acme" in typo.stderr
    assert "Traceback" not in typo.stderr
    assert "acmee" not in run(["stores", "list"], url).stdout
