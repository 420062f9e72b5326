"""Benchmark the cost of authenticating an xAPI request: HTTP Basic against an OAuth bearer token.

In one process, through the Flask test client (no network), on a throw-away SQLite database
(or --database-url): ``GET /xapi/statements?limit=1`` on an empty store, --requests times for
each way of authenticating, and ``POST /oauth/token``. "cold" drops the in-memory cache of
verified credentials and tokens before every request, so each one pays the full check: scrypt
for Basic, one indexed lookup of the token's hash for a bearer token. "warm" is the steady
state of a client within the cache's period (LEARNLOOP_AUTH_CACHE_SECONDS, 15 s). Prints the
median and 95th percentile in milliseconds and the requests per second of one thread.

Usage: python bench/bench_oauth.py [--requests 300] [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from learnloop import create_app
    from learnloop.schema import upgrade_database
    from lrs.auth import create_credential
    from lrs.db import write_transaction

    folder = tempfile.mkdtemp(prefix="bench-oauth-")
    url = args.database_url or f"sqlite:///{folder}/learnloop.sqlite3"
    upgrade_database(url)
    app = create_app({"database_url": url, "public_url": "http://localhost"})
    runtime = app.extensions["learnloop"]
    key, secret = f"bench-{os.getpid()}-{time.time_ns()}", "bench-secret-0123456789abcdef"
    with write_transaction(runtime.sessions) as session:
        create_credential(session, f"bench-oauth-{time.time_ns()}", ["all"], key, secret)
    client = app.test_client()
    basic = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": basic}
    ).get_json()["access_token"]
    version = {"X-Experience-API-Version": "2.0.0"}

    def timed(name: str, call, cold: bool) -> None:
        times = []
        for _ in range(args.requests):
            if cold:
                runtime.authenticator.forget()
            started = time.perf_counter()
            status = call()
            times.append((time.perf_counter() - started) * 1000)
            assert status == 200, (name, status)
        times.sort()
        median = statistics.median(times)
        p95 = times[int(len(times) * 0.95) - 1]
        rate = 1000 * len(times) / sum(times)
        print(f"{name:<34} median {median:7.2f} ms   p95 {p95:7.2f} ms   {rate:7.0f} req/s")

    def get(authorization: str):
        return lambda: (
            client.get(
                "/xapi/statements?limit=1", headers={"Authorization": authorization, **version}
            ).status_code
        )

    def buy():
        return client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic},
        ).status_code

    print(f"{args.requests} requests each, {url.split(':')[0]}, one thread")
    timed("GET statements, Basic, warm", get(basic), cold=False)
    timed("GET statements, Bearer, warm", get("Bearer " + token), cold=False)
    timed("GET statements, Bearer, cold", get("Bearer " + token), cold=True)
    timed("GET statements, Basic, cold", get(basic), cold=True)
    timed("POST /oauth/token, warm", buy, cold=False)
    timed("POST /oauth/token, cold", buy, cold=True)
    runtime.engine.dispose()


if __name__ == "__main__":
    main()
