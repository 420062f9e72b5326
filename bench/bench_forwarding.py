"""Benchmark: statements forwarded from one Learnloop to another, throughput and lag.

Two real servers on 127.0.0.1, each ``learnloop serve`` with its own SQLite database: the
source (web workers plus its queue worker, which forwards) and the destination (an LRS like any
other). A destination is added with ``learnloop forwarding add``; then:

* throughput: --statements statements (default 20,000) already stored in the source are
  replayed to the destination from scratch (``learnloop forwarding replay``); statements/s from
  the replay until the destination has accepted the last one;
* for comparison: how fast the destination stores the same batches POSTed by one client;
* lag: statements POSTed to the source over HTTP at --rate per second (default 200, in batches
  of 10) for --seconds (default 20); for each, the time from "stored" in the source to "stored"
  in the destination (both servers share this machine's clock), p50/p95/max.

    python bench/bench_forwarding.py [--statements 20000] [--rate 200] [--seconds 20]
                                     [--batch-size 500]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from sqlalchemy import create_engine, text

LEARNLOOP = [sys.executable, "-m", "learnloop.cli"]
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One Learnloop instance: a folder, an SQLite database, a credential, a serve process."""

    def __init__(self, folder: str, name: str, extra_env: dict[str, str]) -> None:
        self.folder = os.path.join(folder, name)
        os.makedirs(self.folder)
        self.database = os.path.join(self.folder, "learnloop.sqlite3")
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")}
        self.env.update(
            LEARNLOOP_DATABASE_URL=f"sqlite:///{self.database}",
            LEARNLOOP_INSTANCE_PATH=os.path.join(self.folder, "instance"),
            **extra_env,
        )
        self.run("db", "upgrade")
        made = self.run("credentials", "create", "--store", name, "--new-store", "--scope", "all")
        fields = dict(line.split(":", 1) for line in made.splitlines() if ":" in line)
        self.key, self.secret = fields["key"].strip(), fields["secret"].strip()
        self.store = name
        self.process: subprocess.Popen | None = None

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            LEARNLOOP + list(args),
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode:
            raise SystemExit(f"learnloop {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def serve(self, *options: str) -> None:
        self.log = open(os.path.join(self.folder, "serve.log"), "w")
        self.process = subprocess.Popen(
            LEARNLOOP + ["serve", "--host", "127.0.0.1", "--port", str(self.port), *options],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/health/live", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise SystemExit(f"{self.store} did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {
            "Authorization": "Basic " + token,
            "X-Experience-API-Version": "2.0.0",
            "Content-Type": "application/json",
        }

    def query(self, sql: str, params: dict | None = None) -> list:
        engine = create_engine(f"sqlite:///{self.database}")
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params or {}))
        finally:
            engine.dispose()


def statements(count: int) -> list[dict]:
    return [
        {
            "id": str(uuid.uuid4()),
            "actor": {"mbox": f"mailto:learner{n % 500}@acme.test"},
            "verb": {"id": COMPLETED},
            "object": {"id": f"https://courses.example/bench/{n % 300}"},
        }
        for n in range(count)
    ]


def post(server: Server, batch: list[dict], session: requests.Session) -> None:
    import json

    answer = session.post(
        f"{server.base}/xapi/statements",
        data=json.dumps(batch),
        headers=server.headers(),
        timeout=60,
    )
    if answer.status_code != 200:
        raise SystemExit(f"POST /xapi/statements: {answer.status_code} {answer.text[:300]}")


def delivered(source: Server) -> int:
    return source.query("SELECT delivered FROM forward_destinations")[0][0]


def wait_for(source: Server, count: int, timeout: float) -> float:
    started = time.monotonic()
    while delivered(source) < count:
        if time.monotonic() - started > timeout:
            state = source.query("SELECT state, last_error FROM forward_destinations")[0]
            raise SystemExit(f"forwarding did not catch up: {delivered(source)}/{count} {state}")
        time.sleep(0.05)
    return time.monotonic()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-forwarding-")
    forwarding_env = {
        "LEARNLOOP_FORWARDING_ALLOW_HTTP_LOOPBACK": "1",
        "LEARNLOOP_FORWARDING_BATCH_SIZE": str(args.batch_size),
    }
    destination = Server(folder, "destination", {})
    source = Server(folder, "source", forwarding_env)
    destination.serve("--workers", "2", "--no-worker")
    source.serve("--workers", "2")
    try:
        # ---- throughput: a backlog replayed from scratch -------------------------------------
        http = requests.Session()
        loaded = statements(args.statements)
        for start in range(0, len(loaded), 1000):
            post(source, loaded[start : start + 1000], http)
        idle_deadline = time.monotonic() + 600  # the source's worker counts the load first
        while source.query("SELECT COUNT(*) FROM jobs WHERE state IN ('pending', 'running')")[0][0]:
            if time.monotonic() > idle_deadline:
                raise SystemExit("the source's worker did not finish counting the load")
            time.sleep(0.2)
        source.run(
            "forwarding", "add", "--store", "source", "--name", "bench",
            "--endpoint", destination.base + "/xapi", "--key", destination.key,
            env={"DESTINATION_SECRET": destination.secret},
        )  # fmt: skip
        started = time.monotonic()
        source.run(
            "forwarding", "replay", "--store", "source", "--name", "bench",
            "--since", "2000-01-01",
        )  # fmt: skip
        finished = wait_for(source, args.statements, timeout=600)
        rate = args.statements / (finished - started)
        print(
            f"throughput: {args.statements} statements forwarded in {finished - started:.1f} s "
            f"= {rate:,.0f} statements/s (batches of {args.batch_size})"
        )

        # ---- for comparison: the destination's own write rate for the same batches ----------
        direct = statements(args.statements)
        started = time.monotonic()
        for start in range(0, len(direct), args.batch_size):
            post(destination, direct[start : start + args.batch_size], http)
        took = time.monotonic() - started
        print(
            f"for comparison: the same number POSTed straight to the destination, one client, "
            f"batches of {args.batch_size}: {args.statements / took:,.0f} statements/s"
        )

        # ---- lag: paced ingest while forwarding keeps up --------------------------------------
        batch, interval = 10, 10 / args.rate
        ids: list[str] = []
        begin = time.monotonic()
        next_at = begin
        while time.monotonic() - begin < args.seconds:
            chunk = statements(batch)
            post(source, chunk, http)
            ids.extend(s["id"] for s in chunk)
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        achieved = len(ids) / (time.monotonic() - begin)
        wait_for(source, args.statements + len(ids), timeout=300)
        stored = dict(source.query("SELECT statement_id, stored_ms FROM statements"))
        accepted = dict(destination.query("SELECT statement_id, stored_ms FROM statements"))
        lags = [(accepted[i] - stored[i]) / 1000 for i in ids]
        print(
            f"lag at {achieved:,.0f} statements/s for {args.seconds:g} s ({len(lags)} statements),"
            f" stored in source -> stored in destination: p50 {statistics.median(lags):.3f} s, "
            f"p95 {percentile(lags, 0.95):.3f} s, max {max(lags):.3f} s"
        )
        log = source.query("SELECT outcome, COUNT(*), SUM(items) FROM deliveries GROUP BY outcome")
        print("delivery log: " + ", ".join(f"{o} {n} batches/{s} statements" for o, n, s in log))
        print(f"(at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")
    finally:
        source.stop()
        destination.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
