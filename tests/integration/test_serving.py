"""``learnloop serve`` as it runs in production: several gunicorn workers, one set of figures.

Real processes on 127.0.0.1 and a fresh migrated SQLite database: the request counters that
``/metrics`` serves add up across workers to exactly the requests sent, whichever worker
answers each scrape; every request has one JSON access line with its ``X-Request-Id``; a busy
port is one line, at once; the banner comes only once the server listens.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from learnloop.serving import bind_listener
from lrs import vocabulary as v

LEARNLOOP = [sys.executable, "-m", "learnloop.cli"]
ABOUT, POSTS, BATCH = 60, 30, 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNLOOP_", "PROMETHEUS"))}
    env["LEARNLOOP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    env["LEARNLOOP_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def learnloop(env, *args) -> str:
    done = subprocess.run(
        LEARNLOOP + list(args), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_until_answers(url: str, process: subprocess.Popen, errors: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{errors.read_text()}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.1)
    pytest.fail(f"the server did not answer:\n{errors.read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def scrape(base: str) -> dict[tuple[str, frozenset], float]:
    answer = requests.get(base + "/metrics", timeout=10)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(found, name, **labels) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (n, have), value in found.items() if n == name and wanted <= have)


def test_figures_add_up_across_two_workers(tmp_path):
    env = environment(tmp_path)
    learnloop(env, "db", "upgrade")
    created = learnloop(
        env, "credentials", "create", "--store", "served", "--new-store", "--scope", "all"
    )
    lines = dict(line.split(":", 1) for line in created.splitlines() if ":" in line)
    key, secret = lines["key"].strip(), lines["secret"].strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    errors = tmp_path / "stderr"
    with open(errors, "w") as stderr:
        server = subprocess.Popen(
            LEARNLOOP + ["serve", "--port", str(port), "--workers", "2", "--no-worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        wait_until_answers(base + "/health/live", server, errors)
        before = scrape(base)
        auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        sent: list[str] = []

        def about(n: int) -> str:
            rid = f"about-{n}-{uuid.uuid4().hex[:8]}"
            answer = requests.get(base + "/xapi/about", headers={"X-Request-Id": rid}, timeout=15)
            assert answer.status_code == 200 and answer.headers["X-Request-Id"] == rid
            return rid

        def post(n: int) -> str:
            rid = f"post-{n}-{uuid.uuid4().hex[:8]}"
            batch = [
                {
                    "actor": {"mbox": f"mailto:served-{n}-{i}@example.com"},
                    "verb": {"id": v.EXPERIENCED},
                    "object": {"id": f"http://example.com/served/{n}/{i}"},
                }
                for i in range(BATCH)
            ]
            answer = requests.post(
                base + "/xapi/statements",
                json=batch,
                headers={
                    "Authorization": auth,
                    "X-Experience-API-Version": "2.0.0",
                    "X-Request-Id": rid,
                },
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["X-Request-Id"] == rid
            return rid

        with ThreadPoolExecutor(max_workers=6) as pool:
            jobs = [pool.submit(about, n) for n in range(ABOUT)]
            jobs += [pool.submit(post, n) for n in range(POSTS)]
            sent = [job.result() for job in jobs]

        scrapes = [scrape(base) for _ in range(4)]  # whichever worker answers, the same sums
        for found in scrapes:
            about_n = total(found, "learnloop_http_requests_total", route="/xapi/about")
            assert (
                about_n - total(before, "learnloop_http_requests_total", route="/xapi/about")
                == ABOUT
            )
            posted = total(
                found, "learnloop_http_requests_total", route="/xapi/statements", method="POST"
            )
            assert posted == POSTS
            assert total(found, "learnloop_statements_stored_total", source="xapi") == POSTS * BATCH
            assert (
                total(found, "learnloop_http_request_duration_seconds_count", route="/xapi/about")
                == about_n
            )
            # No queue worker runs (--no-worker): the job the batches left waits, and shows.
            assert total(found, "learnloop_queue_jobs", kind="statements", state="pending") == 1
        assert total(scrapes[-1], "learnloop_http_requests_total", route="/metrics") >= 4

        stop(server)
        log = [json.loads(line) for line in errors.read_text().splitlines() if line.startswith("{")]
        access = [line for line in log if line["logger"] == "learnloop.access"]
        ours = [line for line in access if line["request_id"] in set(sent)]
        assert sorted(line["request_id"] for line in ours) == sorted(sent)  # one line each
        assert len({line["pid"] for line in ours}) == 2, "both workers served requests"
        assert all(line["credential"] == key for line in ours if line["method"] == "POST")
        assert secret not in errors.read_text()
        assert not [line for line in errors.read_text().splitlines() if not line.startswith("{")]
    finally:
        stop(server)


def test_a_busy_port_is_one_line_at_once(tmp_path):
    env = environment(tmp_path)
    learnloop(env, "db", "upgrade")

    def serve(port: int) -> tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        done = subprocess.run(
            LEARNLOOP + ["serve", "--port", str(port), "--workers", "1", "--no-worker"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done, time.monotonic() - started

    _, starting = serve(65536)  # refused before any socket: the cost of starting the command
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done, took = serve(port)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: address already in use; stop what is "
        "using it or choose another --port"
    ]
    # Gunicorn's own retries would add 5 s (and a log line each); binding first fails at once.
    assert took < starting + 4, f"took {took:.1f} s, starting takes {starting:.1f} s"


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_a_port_out_of_range_is_refused_before_binding(port):
    with pytest.raises(click.ClickException, match=f"cannot listen on port {port}: a port is 1"):
        bind_listener("127.0.0.1", port)


def test_an_address_not_of_this_machine_is_one_line():
    with pytest.raises(click.ClickException) as refused:
        bind_listener("192.0.2.1", free_port())  # TEST-NET-1: never a local address
    assert refused.value.message.startswith("cannot listen on 192.0.2.1:")
    assert "\n" not in refused.value.message


READY_SCRIPT = """
import os, sys
from learnloop.serving import run_gunicorn

def ready():
    print("READY", os.environ["PROMETHEUS_MULTIPROC_DIR"], flush=True)

run_gunicorn("127.0.0.1", int(sys.argv[1]), 1, 1, queue_worker=False, on_ready=ready)
"""


def test_the_banner_comes_once_listening_and_the_metrics_folder_goes_at_exit(tmp_path):
    env = environment(tmp_path)
    learnloop(env, "db", "upgrade")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", READY_SCRIPT, str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = server.stdout.readline()
        assert line.startswith("READY "), line
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening when the banner is printed
        folder = Path(line.split(" ", 1)[1].strip())
        assert folder.is_dir() and (folder.stat().st_mode & 0o077) == 0
        answer = requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=30)
        assert answer.status_code == 200, answer.text
        assert any(folder.iterdir())  # the worker's samples
    finally:
        stop(server)
        _, errors = server.communicate()
    assert server.returncode == 0
    assert not folder.exists()
    assert all(line.startswith("{") for line in errors.splitlines()), errors
