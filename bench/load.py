"""A load test of two nodes behind HAProxy with two workers on PostgreSQL, driven by Locust.

A script, not a test: it takes minutes and wants a quiet machine (issue 18, part 5). It starts
the set-up of ``docs/deploy.md`` (HAProxy round robin over N ``learnloop serve --no-worker``
nodes, M ``learnloop worker`` processes, one PostgreSQL), prepares a store as an admin would
(credential, account, GitHub connector, through the ``learnloop`` command), runs Locust headless
with ``bench/locustfile.py`` (batch and single writes, filtered reads, state documents, signed-in
pages, webhook deliveries), and prints per request type the count, failures and p50/p95/p99,
then statements/s sustained. Needs ``pip install locust`` and Debian's haproxy.

    python bench/load.py [--users 200] [--seconds 60] [--nodes 2] [--workers 2]
                         [--database-url postgresql+psycopg://...]

Without --database-url it starts a throw-away PostgreSQL (tests/support/postgres.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
LEARNLOOP = Path(sys.executable).parent / "learnloop"
PASSWORD = "load-test-password-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="queue workers")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers per node")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="learnloop-load-"))
    processes: list[subprocess.Popen] = []
    postgres = None
    try:
        url = args.database_url
        if url is None:
            from tests.support.postgres import ThrowawayPostgres

            postgres = ThrowawayPostgres()
            postgres.start()
            url = postgres.url
            postgres_settings = "fsync off, synchronous_commit off (a throw-away server)"
        else:
            postgres_settings = "as configured"
        lb_port = free_port()
        base = f"http://127.0.0.1:{lb_port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")},
            "LEARNLOOP_DATABASE_URL": url,
            "LEARNLOOP_PUBLIC_URL": base,
            "LEARNLOOP_SECRET_KEY": "load-test-" + "s" * 40,
            "LEARNLOOP_TRUSTED_PROXIES": "127.0.0.1",
            "LEARNLOOP_INSTANCE_PATH": str(tmp / "instance"),
        }

        def learnloop(*command: str) -> str:
            done = subprocess.run([str(LEARNLOOP), *command], env=env, capture_output=True,
                                  text=True, timeout=300)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(f"learnloop {' '.join(command)}: {done.stderr}")
            return done.stdout

        def spawn(name: str, command: list[str]) -> None:
            with open(tmp / f"{name}.log", "w") as log:
                processes.append(subprocess.Popen(command, env=env, stdout=log,
                                                  stderr=subprocess.STDOUT,
                                                  start_new_session=True))  # fmt: skip

        learnloop("db", "upgrade")
        learnloop("stores", "create", "load")
        made = learnloop("credentials", "create", "--store", "load")
        key = re.search(r"^key:\s+(\S+)", made, re.M).group(1)
        secret = re.search(r"^secret:\s+(\S+)", made, re.M).group(1)
        learnloop("accounts", "create", "--store", "load", "--email", "admin@load.test",
                  "--admin", "--password", PASSWORD)  # fmt: skip
        connector = learnloop("connectors", "create", "--store", "load", "--kind", "github")
        webhook = re.search(r"^url:\s+(\S+)", connector, re.M).group(1)
        webhook_secret = re.search(r"^secret:\s+(\S+)", connector, re.M).group(1)

        ports = [free_port() for _ in range(args.nodes)]
        for n, port in enumerate(ports):
            spawn(f"node{n}", [str(LEARNLOOP), "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(args.web_workers), "--no-worker"])  # fmt: skip
        for n in range(args.workers):
            spawn(f"worker{n}", [str(LEARNLOOP), "worker"])
        servers = "\n".join(f"    server node{n} 127.0.0.1:{p} check inter 1s"
                            for n, p in enumerate(ports))  # fmt: skip
        (tmp / "haproxy.cfg").write_text(
            "global\n    maxconn 4096\ndefaults\n    mode http\n    timeout connect 5s\n"
            "    timeout client 120s\n    timeout server 120s\n    option forwardfor\n"
            f"frontend learnloop\n    bind 127.0.0.1:{lb_port}\n    default_backend nodes\n"
            "backend nodes\n    balance roundrobin\n    option httpchk GET /health/ready\n"
            f"{servers}\n"
        )
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        spawn("haproxy", [haproxy, "-f", str(tmp / "haproxy.cfg"), "-db"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/health/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the set-up did not become ready; logs in " + str(tmp))

        stored_before = count_statements(url)
        load_env = {
            **os.environ,
            "LOAD_KEY": key, "LOAD_SECRET": secret, "LOAD_STORE": "load",
            "LOAD_EMAIL": "admin@load.test", "LOAD_PASSWORD": PASSWORD,
            "LOAD_CONNECTOR_PATH": webhook.removeprefix(base),
            "LOAD_CONNECTOR_SECRET": webhook_secret,
            "LOAD_GITHUB_REVIEW": str(HERE.parent / "tests" / "connectors" / "fixtures" /
                                      "github" / "pull_request_review.approved.json"),
        }  # fmt: skip
        started = time.monotonic()
        subprocess.run(
            [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(max(1, args.users // 10)),
             "-t", f"{args.seconds}s", "--host", base, "--csv", str(tmp / "load"),
             "--only-summary", "--loglevel", "WARNING"],
            env=load_env, check=False, timeout=args.seconds + 300,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        stored = count_statements(url) - stored_before
        print(f"\n{args.nodes} nodes x {args.web_workers} gunicorn worker(s) behind HAProxy, "
              f"{args.workers} queue workers, PostgreSQL ({postgres_settings}); "
              f"{args.users} users for {args.seconds} s, client on the same machine\n")  # fmt: skip
        failures = print_table(tmp / "load_stats.csv")
        failed = tmp / "load_failures.csv"
        for row in list(csv.DictReader(failed.open()))[:10] if failed.exists() else []:
            print(f"  failed: {row['Method']} {row['Name']} x{row['Occurrences']}: {row['Error']}")
        print(f"\nstatements stored: {stored:,} in {elapsed:.0f} s = {stored / elapsed:,.0f}/s "
              f"(batches, single POSTs and webhook deliveries)")  # fmt: skip
        print(f"failed requests: {failures}")
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def count_statements(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM statements")).scalar_one()
    finally:
        engine.dispose()


def print_table(stats_csv: Path) -> int:
    """Per request type: requests, failures, p50/p95/p99 (ms), requests/s; total failures."""
    rows = list(csv.DictReader(stats_csv.open()))
    print(f"{'request':<34}{'count':>8}{'failed':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'req/s':>9}")
    failures = 0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
        print(f"{name:<34}{int(row['Request Count']):>8,}{int(row['Failure Count']):>8}"
              f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
              f"{float(row['Requests/s']):>9.1f}")  # fmt: skip
        if row["Name"] == "Aggregated":
            failures = int(row["Failure Count"])
    return failures


if __name__ == "__main__":
    main()
