"""Benchmark ``learnloop statements export``: rows/s and peak memory as the store grows.

Loads realistic statements (bench_statements' factory: 1,000 actors, 10,000 activities, 20 verbs,
results, registrations, parent activities) into a fresh database through the LRS write path
(``lrs.api.write_statements``: validation, index terms, conflict check, multi-row inserts) in
transactions of --batch statements, timing the load. At each size of --sizes it runs the real
command in a subprocess, ``learnloop statements export --store S --format F`` with its output
going to /dev/null, and prints rows/s and the child's peak RSS (``os.wait4``'s ``ru_maxrss``:
this process's own memory is not counted). The first line is the same command on an empty
export, which shows what Python, SQLAlchemy and the app's imports cost before any row.

By default the database is a throw-away SQLite file; --database-url runs the same against
PostgreSQL (a fresh store in the database it names; the database must exist and be upgraded or
upgradable). Usage:
    python bench/bench_export.py [--sizes 100000,1000000] [--formats ndjson,csv]
                                 [--batch 5000] [--database-url URL] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load(url: str, store: str, start: int, stop: int, batch: int) -> float:
    """Write statements start..stop through the write path; returns the seconds it took.

    Runs in a child process (``--load``), so this process stays small: a child forked from a
    large parent would report the parent's size as its own peak before it runs the export.
    """
    sys.path[:0] = [ROOT, HERE]
    from bench_statements import StatementFactory

    from learnloop import create_app
    from lrs import api
    from lrs.auth import get_or_create_store
    from lrs.db import write_transaction

    app = create_app({"database_url": url, "public_url": "http://localhost"})
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        store_id = get_or_create_store(session, store).id
    principal = api.source_principal(store_id, "bench")
    factory = StatementFactory(seed=start + 7)
    began = time.perf_counter()
    done = start
    last_report = began
    while done < stop:
        size = min(batch, stop - done)
        statements = [json.loads(factory.statement()) for _ in range(size)]
        with write_transaction(sessions) as session:
            api.write_statements(session, principal, statements)
        done += size
        now = time.perf_counter()
        if now - last_report > 30:
            rate = (done - start) / (now - began)
            print(f"  loaded {done:,} ({rate:,.0f} statements/s)", file=sys.stderr, flush=True)
            last_report = now
    seconds = time.perf_counter() - began
    app.extensions["learnloop"].engine.dispose()
    return seconds


def run_load(url: str, store: str, start: int, stop: int, batch: int) -> float:
    """``load`` in a child process; its seconds."""
    command = [sys.executable, __file__, "--load", url, store, str(start), str(stop), str(batch)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


#: The ``learnloop`` command as its entry point runs it, timed once its modules are imported.
TIMED = """
import sys, time
from learnloop.cli import main
began = time.perf_counter()
try:
    main(sys.argv[1:], prog_name="learnloop")
finally:
    print(f"bench-seconds {time.perf_counter() - began}", file=sys.stderr)
"""


def export(url: str, store: str, fmt: str) -> tuple[float, float, float, int, int]:
    """Run the export command into /dev/null.

    Returns the child's wall seconds, its seconds after importing (connecting, reading,
    writing), its CPU seconds (user + system: steadier than wall time on a shared machine), its
    peak RSS in MiB (of that child alone) and the statements it wrote.
    """
    command = [sys.executable, "-c", TIMED, "statements", "export"]
    command += ["--store", store, "--format", fmt]
    env = {**os.environ, "LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_DEBUG": ""}
    began = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    stderr = child.stderr.read() if child.stderr else ""
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"export failed ({child.returncode}): {stderr.strip()}")
    working = float(stderr.rsplit("bench-seconds ", 1)[1].split()[0])
    count = int(stderr.split("exported ", 1)[1].split()[0])
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, working, cpu, usage.ru_maxrss // 1024, count  # ru_maxrss: KiB on Linux


HEADER = (
    f"{'statements':>12} {'format':>7} {'seconds':>8} {'rows/s':>9} {'CPU s':>7} {'peak RSS':>9}"
)


def row(size: int, fmt: str, seconds: float, rate: float | None, cpu: float, rss: int) -> str:
    shown = "-" if rate is None else f"{rate:,.0f}"
    return f"{size:>12,} {fmt:>7} {seconds:>8.2f} {shown:>9} {cpu:>7.1f} {rss:>6} MiB"


def main() -> None:
    if sys.argv[1:2] == ["--load"]:
        url, store, start, stop, batch = sys.argv[2:7]
        print(load(url, store, int(start), int(stop), int(batch)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="ndjson,csv")
    parser.add_argument("--batch", type=int, default=5000, help="statements per transaction")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--keep", default=None, help="keep the SQLite file in this folder")
    parser.add_argument(
        "--store",
        default=None,
        help="export this store of a kept database (--keep DIR or --database-url) as it is, "
        "loading nothing: to measure again without loading again",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    formats = args.formats.split(",")

    folder = None
    if args.database_url:
        url = args.database_url
        backend = "PostgreSQL"
    else:
        folder = args.keep or tempfile.mkdtemp(prefix="bench-export-")
        os.makedirs(folder, exist_ok=True)
        url = f"sqlite:///{os.path.join(folder, 'learnloop.sqlite3')}"
        backend = "SQLite"
    env = {**os.environ, "LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_DEBUG": ""}
    upgrade = [sys.executable, "-m", "learnloop.cli", "db", "upgrade"]
    subprocess.run(upgrade, env=env, check=True, stdout=subprocess.DEVNULL)
    if args.store:
        print(f"{backend}; store {args.store} as it is; formats {', '.join(formats)}")
        print(HEADER)
        for fmt in formats:
            seconds, working, cpu, rss, size = export(url, args.store, fmt)
            print(row(size, fmt, seconds, size / working, cpu, rss), flush=True)
        return
    store = f"bench-{uuid.uuid4().hex[:8]}"
    print(f"{backend}; store {store}; formats {', '.join(formats)}; batch {args.batch}")
    print("seconds: the whole command; rows/s: over its time after importing its modules")
    print(HEADER)
    try:
        run_load(url, store, 0, 0, args.batch)  # the store, empty
        for fmt in formats:
            seconds, _, cpu, rss, _ = export(url, store, fmt)
            print(row(0, fmt, seconds, None, cpu, rss), flush=True)
        loaded = 0
        load_seconds = 0.0
        for size in sizes:
            spent = run_load(url, store, loaded, size, args.batch)
            load_seconds += spent
            print(
                f"  loaded {size - loaded:,} statements in {spent:.0f} s "
                f"({(size - loaded) / spent:,.0f}/s; {size:,} in {load_seconds:.0f} s in all)",
                flush=True,
            )
            loaded = size
            for fmt in formats:
                seconds, working, cpu, rss, count = export(url, store, fmt)
                assert count == size, (count, size)
                print(row(size, fmt, seconds, size / working, cpu, rss), flush=True)
    finally:
        if folder and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
