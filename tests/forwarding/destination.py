"""A second Learnloop, served by ``learnloop serve`` on a free port: the forwarding destination.

It runs as its user would run it (its own SQLite database, a credential made by
``learnloop credentials create``), and can be stopped and started again on the same port to
play a destination that is down for a while.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

LEARNLOOP = [sys.executable, "-m", "learnloop.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Destination:
    """A Learnloop server on 127.0.0.1 with one store and one credential."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LEARNLOOP_", "PROMETHEUS"))
        }
        self.env["LEARNLOOP_DATABASE_URL"] = f"sqlite:///{folder / 'destination.sqlite3'}"
        self.env["LEARNLOOP_INSTANCE_PATH"] = str(folder / "instance")
        self.env["PYTHONUNBUFFERED"] = "1"
        self.process: subprocess.Popen | None = None
        self.learnloop("db", "upgrade")
        created = self.learnloop(
            "credentials", "create", "--store", "destination", "--new-store", "--scope", "all"
        )
        lines = dict(line.split(":", 1) for line in created.splitlines() if ":" in line)
        self.key, self.secret = lines["key"].strip(), lines["secret"].strip()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi"

    def learnloop(self, *args: str) -> str:
        done = subprocess.run(
            LEARNLOOP + list(args), env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        errors = open(self.folder / "stderr", "a")
        with errors:
            self.process = subprocess.Popen(
                LEARNLOOP
                + ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
                + ["--no-worker"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.folder / "stderr").read_text()[-3000:])
            try:
                requests.get(f"http://127.0.0.1:{self.port}/health/live", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("the destination did not answer within 60 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": "Basic " + token, "X-Experience-API-Version": "2.0.0"}

    def tokens_issued(self) -> int:
        """How many OAuth access tokens the destination has issued (read from its database)."""
        engine = create_engine(self.env["LEARNLOOP_DATABASE_URL"])
        try:
            with engine.connect() as connection:
                return connection.execute(text("SELECT COUNT(*) FROM oauth_tokens")).scalar()
        finally:
            engine.dispose()

    def statements(self) -> list[dict]:
        """Every statement the destination holds, in its stored order (oldest first)."""
        found: list[dict] = []
        url = f"http://127.0.0.1:{self.port}/xapi/statements?ascending=true&limit=500"
        while url:
            answer = requests.get(url, headers=self.headers(), timeout=30)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            found.extend(body["statements"])
            more = body.get("more")
            url = f"http://127.0.0.1:{self.port}{more}" if more else ""
        return found
