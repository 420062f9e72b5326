"""Benchmark the statement write and query paths of a real ``learnloop serve`` over HTTP.

Loads realistic statements (1,000 actors, 10,000 activities, 20 verbs, context activities,
results, registrations) and prints:
  * statements/s for POST batches of 100
  * requests/s and p50/p95 for single-statement POSTs
  * p50/p95 of GET filtered by agent, verb and activity: first page and a ``more`` page,
    at each size given by --sizes (default 100000,1000000)

By default it starts ``learnloop serve`` on a throw-away SQLite database; --url points it at a
running server instead (then --key/--secret are needed). Usage:
    python bench/bench_statements.py [--sizes 100000,1000000] [--workers 2] [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lrs import vocabulary as v  # noqa: E402

ACTORS = 1_000
ACTIVITIES = 10_000
VERBS = 20
REGISTRATIONS = 5_000
VERB_IDS = [f"http://verbs.example.com/v{n}" for n in range(VERBS)]  # made up, none of ADL's


def actor(n: int) -> dict:
    return {"objectType": "Agent", "name": f"Learner {n}", "mbox": f"mailto:learner{n}@example.com"}


def activity_id(n: int) -> str:
    return f"http://courses.example.com/activities/{n}"


class StatementFactory:
    """Realistic statements, generated quickly (the client shares the CPU with the server)."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.registrations = [
            str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) for _ in range(REGISTRATIONS)
        ]

    def statement(self) -> str:
        rng = self.rng
        a = rng.randrange(ACTORS)
        act = rng.randrange(ACTIVITIES)
        course = act // 100
        verb = rng.randrange(VERBS)
        score = rng.randrange(0, 101)
        return json.dumps(
            {
                "actor": actor(a),
                "verb": {"id": VERB_IDS[verb], "display": {"en-US": f"verb {verb}"}},
                "object": {
                    "objectType": "Activity",
                    "id": activity_id(act),
                    "definition": {
                        "name": {"en-US": f"Activity {act}"},
                        "type": v.LESSON,
                    },
                },
                "result": {
                    "score": {"scaled": score / 100, "raw": score, "min": 0, "max": 100},
                    "success": score >= 60,
                    "completion": True,
                    "duration": f"PT{rng.randrange(1, 3600)}S",
                },
                "context": {
                    "registration": rng.choice(self.registrations),
                    "contextActivities": {
                        "parent": [{"id": f"http://courses.example.com/courses/{course}"}],
                        "grouping": [{"id": "http://courses.example.com/programs/engineering"}],
                    },
                    "platform": "bench",
                },
                "timestamp": "2026-01-01T00:00:00.000Z",
            },
            separators=(",", ":"),
        )

    def batch(self, size: int) -> bytes:
        return ("[" + ",".join(self.statement() for _ in range(size)) + "]").encode()


class Client:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, base: str, key: str, secret: str, version: str = "2.0.0") -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self.headers = {
            "Authorization": "Basic " + token,
            "X-Experience-API-Version": version,
            "Content-Type": "application/json",
        }
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, self.prefix + path, body=body, headers=self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def make_bodies(seed: int, count: int = 400) -> list[bytes]:
    """Distinct batch bodies, made before timing starts: the client shares the server's CPUs.

    Statements carry no id, so cycling through the bodies stores new statements every time
    while keeping the realistic mix of actors, activities and verbs.
    """
    factory = StatementFactory(seed)
    return [factory.batch(100) for _ in range(count)]


def load(base, key, secret, count: int, threads: int, bodies: list[bytes]) -> float:
    """POST ``count`` statements in batches of 100 from ``threads`` clients; statements/s."""
    batches = count // 100
    lock = threading.Lock()
    remaining = [batches]
    errors = []

    def work() -> None:
        client = Client(base, key, secret)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                body = bodies[remaining[0] % len(bodies)]
            status, answer = client.request("POST", "/statements", body)
            if status != 200:
                errors.append((status, answer[:300]))
                return

    started = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"load failed: {errors[0]}")
    return batches * 100 / elapsed


def single_posts(base, key, secret, seconds: float, threads: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    factory = StatementFactory(9000)
    bodies = [factory.statement().encode() for _ in range(5000)]

    def work(seed: int) -> None:
        client = Client(base, key, secret)
        mine = []
        n = seed
        while time.perf_counter() < stop:
            body = bodies[n % len(bodies)]
            n += threads
            t0 = time.perf_counter()
            status, _ = client.request("POST", "/statements", body)
            mine.append(time.perf_counter() - t0)
            if status != 200:
                raise SystemExit(f"single POST failed: {status}")
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    return (
        len(latencies) / elapsed,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 95) * 1000,
    )


def queries(base, key, secret, kind: str, samples: int) -> dict[str, float]:
    client = Client(base, key, secret)
    rng = random.Random(11)
    first, more = [], []
    for _ in range(samples):
        if kind == "agent":
            params = {
                "agent": json.dumps({"mbox": f"mailto:learner{rng.randrange(ACTORS)}@example.com"})
            }
        elif kind == "verb":
            params = {"verb": VERB_IDS[rng.randrange(VERBS)]}
        else:
            params = {"activity": activity_id(rng.randrange(ACTIVITIES))}
        params["limit"] = "10"
        path = "/statements?" + urllib.parse.urlencode(params)
        t0 = time.perf_counter()
        status, body = client.request("GET", path)
        first.append(time.perf_counter() - t0)
        if status != 200:
            raise SystemExit(f"GET failed: {status} {body[:200]}")
        token = json.loads(body).get("more")
        if token:
            relative = token.split("/statements", 1)[1]
            t0 = time.perf_counter()
            status, body = client.request("GET", "/statements" + relative)
            more.append(time.perf_counter() - t0)
    out = {"first_p50": percentile(first, 50) * 1000, "first_p95": percentile(first, 95) * 1000}
    if more:
        out["more_p50"] = percentile(more, 50) * 1000
        out["more_p95"] = percentile(more, 95) * 1000
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    database_url: str, workers: int, queue_worker: bool = True, *, set_up: bool = True
) -> tuple[subprocess.Popen, str, str, str]:
    """Serve ``database_url``; ``set_up``: first migrate it and make the bench credential."""
    env = dict(os.environ, LEARNLOOP_DATABASE_URL=database_url)
    key, secret = "bench", "bench-secret-of-the-benchmark"
    if set_up:
        _set_up(env, key, secret)
    return _start(env, free_port(), workers, queue_worker, key, secret)


def _set_up(env: dict, key: str, secret: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "learnloop.cli", "db", "upgrade"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "learnloop.cli",
            "credentials",
            "create",
            "--store",
            "bench",
            "--create-store",
            "--key",
            key,
            "--secret",
            secret,
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _start(env, port, workers, queue_worker, key, secret):
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "learnloop.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *([] if queue_worker else ["--no-worker"]),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab"),  # noqa: SIM115
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/xapi"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            status, _ = Client(base, key, secret).request("GET", "/about")
            if status == 200:
                return server, base, key, secret
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--url", default=None, help="benchmark a running server instead")
    parser.add_argument("--key", default=None)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="skip measuring bench/ceiling.py after Learnloop (and the ratios)",
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve without the queue worker (the write path alone, as before the queue)",
    )
    args = parser.parse_args()

    tmp = None
    server = None
    if args.url:
        base, key, secret = args.url.rstrip("/"), args.key, args.secret
    else:
        tmp = tempfile.mkdtemp(prefix="learnloop-bench-")
        database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        server, base, key, secret = start_server(database_url, args.workers, not args.no_worker)
    try:
        print(f"server: {base} ({args.workers} workers); client threads: {args.threads}")
        sizes = [int(size) for size in args.sizes.split(",")]
        ours = measure(base, key, secret, sizes, args.threads, args.samples)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    if not args.url and not args.no_ceiling:
        ceiling_url = args.database_url or f"sqlite:///{tmp}/ceiling.sqlite3"
        ceiling, ceiling_base = start_ceiling(ceiling_url, args.workers)
        try:
            print("\n== the ceiling (bench/ceiling.py), same client, workers and database ==")
            theirs = measure(ceiling_base, key, secret, sizes, args.threads, args.samples)
        finally:
            os.killpg(ceiling.pid, signal.SIGTERM)
            ceiling.wait(timeout=30)
        print_ratios(ours, theirs, sizes)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_queries(base, key, secret, samples) -> dict[str, dict[str, float]]:
    """GET filtered by agent, verb and activity: first and ``more`` pages; printed, returned."""
    results = {}
    for kind in ("agent", "verb", "activity"):
        r = results[kind] = queries(base, key, secret, kind, samples)
        line = (
            f"GET ?{kind}= limit=10: first page p50 {r['first_p50']:.2f} ms "
            f"p95 {r['first_p95']:.2f} ms"
        )
        if "more_p50" in r:
            line += f"; more page p50 {r['more_p50']:.2f} ms p95 {r['more_p95']:.2f} ms"
        print(line)
    return results


def measure_at_size(base, key, secret, size, threads, samples, seconds) -> None:
    """The HTTP paths measured on a store already holding ``size`` statements (bench_scale)."""
    bodies = make_bodies(seed=1)
    rate = load(base, key, secret, max(1000, int(seconds * 3000) // 100 * 100), threads, bodies)
    print(f"\n== {size:,} statements stored ==")
    print(f"POST batches of 100: {rate:,.0f} statements/s")
    measure_queries(base, key, secret, samples)
    rps, p50, p95 = single_posts(base, key, secret, seconds / 3, threads)
    print(f"single-statement POST: {rps:,.0f} requests/s, p50 {p50:.2f} ms, p95 {p95:.2f} ms")


def measure(base, key, secret, sizes, threads, samples) -> dict:
    """Load to each size, query at each, then single POSTs; print and return the figures."""
    results: dict = {}
    loaded = 0
    bodies = make_bodies(seed=1)
    for size in sizes:
        rate = load(base, key, secret, size - loaded, threads, bodies)
        loaded = size
        results[("batch", size)] = rate
        print(f"\n== {size:,} statements stored ==")
        print(f"POST batches of 100: {rate:,.0f} statements/s (loading to {size:,})")
        for kind, r in measure_queries(base, key, secret, samples).items():
            results[(kind, size)] = r
    rps, p50, p95 = single_posts(base, key, secret, 10.0, threads)
    results["single"] = (rps, p50, p95)
    print(f"\nsingle-statement POST: {rps:,.0f} requests/s, p50 {p50:.2f} ms, p95 {p95:.2f} ms")
    return results


def start_ceiling(database_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    here = os.path.dirname(os.path.abspath(__file__))
    server = subprocess.Popen(
        [sys.executable, os.path.join(here, "ceiling.py"), "--database-url", database_url,
         "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/xapi"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            status, _ = Client(base, "ceiling", "ceiling").request("GET", "/about")
            if status == 200:
                return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the ceiling did not start")


def print_ratios(ours: dict, theirs: dict, sizes: list[int]) -> None:
    """Learnloop as a share of the ceiling, measured in this run (targets: issue 18)."""
    print("\n== Learnloop / ceiling (this run) ==")
    print(f"{'measure':<44}{'Learnloop':>12}{'ceiling':>12}{'ratio':>8}  target")
    rows = []
    for size in sizes:
        rows.append((f"POST batches of 100 at {size:,} (statements/s)",
                     ours[("batch", size)], theirs[("batch", size)], ">= 0.80"))  # fmt: skip
        for kind in ("agent", "verb", "activity"):
            rows.append((f"GET ?{kind}= first page p50 at {size:,} (ms)",
                         ours[(kind, size)]["first_p50"], theirs[(kind, size)]["first_p50"],
                         "<= 1.30"))  # fmt: skip
    rows.append(("single-statement POST (requests/s)", ours["single"][0], theirs["single"][0],
                 ">= 0.85"))  # fmt: skip
    for name, mine, best, target in rows:
        ratio = mine / best if best else float("nan")
        print(f"{name:<44}{mine:>12,.2f}{best:>12,.2f}{ratio:>8.2f}  {target}")


if __name__ == "__main__":
    main()
