"""Several nodes behind a real load balancer, on one PostgreSQL (issue 18, part 4).

Two ``learnloop serve`` processes behind Debian's HAProxy (round robin, no stickiness: each
request goes to the other node), two ``learnloop worker`` processes, one database. Everything
a user carries from one request to the next must be shared: the page session, the LTI login's
state (the login reaches one node, the launch the other), the failed-sign-in counters, a
revoked credential (within the auth cache's bounded staleness), the statements themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import browser, serve

LEARNLOOP = Path(sys.executable).parent / "learnloop"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
VERSION = {"X-Experience-API-Version": "2.0.0"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
AUTH_CACHE_SECONDS = 2
PASSWORD = "several-nodes-password"

HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option forwardfor
frontend learnloop
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /health/ready
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """The operator's set-up: nodes, workers and the load balancer, all real processes."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LEARNLOOP_")},
            "LEARNLOOP_DATABASE_URL": database_url,
            "LEARNLOOP_PUBLIC_URL": self.base,
            "LEARNLOOP_SECRET_KEY": "several-nodes-" + uuid.uuid4().hex * 2,
            "LEARNLOOP_TRUSTED_PROXIES": "127.0.0.1",
            "LEARNLOOP_AUTH_CACHE_SECONDS": str(AUTH_CACHE_SECONDS),
            "LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK": "true",
            "LEARNLOOP_INSTANCE_PATH": str(tmp / "instance"),
        }
        self.processes: list[subprocess.Popen] = []
        self.node_ports = [free_port(), free_port()]

    def learnloop(self, *args: str) -> str:
        done = subprocess.run(
            [str(LEARNLOOP), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def spawn(self, name: str, command: list[str]) -> None:
        with open(self.tmp / f"{name}.log", "w") as log:
            self.processes.append(
                subprocess.Popen(
                    command,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            )

    def start(self) -> None:
        self.learnloop("db", "upgrade")
        for n, port in enumerate(self.node_ports):
            self.spawn(f"node{n}", [str(LEARNLOOP), "serve", "--host", "127.0.0.1", "--port",
                                    str(port), "--workers", "1", "--no-worker"])  # fmt: skip
        for n in range(2):
            self.spawn(f"worker{n}", [str(LEARNLOOP), "worker"])
        servers = "\n".join(
            f"    server node{n} 127.0.0.1:{port} check inter 500ms"
            for n, port in enumerate(self.node_ports)
        )
        config = self.tmp / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        self.spawn("haproxy", [HAPROXY, "-f", str(config), "-db"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(self.node_ready(port) for port in self.node_ports) and self.balanced():
                return
            time.sleep(0.3)
        raise AssertionError("the cluster did not start:\n" + self.logs())

    def node_ready(self, port: int) -> bool:
        try:
            url = f"http://127.0.0.1:{port}/health/ready"
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def balanced(self) -> bool:
        """Both nodes answer through the balancer (its health checks passed for both)."""
        try:
            names = {requests.get(self.base + "/health/live", timeout=2).headers.get("X-Served-By")
                     for _ in range(6)}  # fmt: skip
        except requests.RequestException:
            return False
        return names == {"node0", "node1"}

    @staticmethod
    def node_of(response: requests.Response) -> str:
        """Which node answered (HAProxy names it in ``X-Served-By``)."""
        return response.headers["X-Served-By"]

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(postgres_url, tmp_path_factory):
    if not os.path.exists(HAPROXY):
        pytest.fail("HAProxy is not installed (scripts/test installs Debian's haproxy)")
    made = Cluster(tmp_path_factory.mktemp("cluster"), postgres_url)
    try:
        made.start()
        yield made
    finally:
        made.stop()


def signed_in_session(cluster, store: str, email: str) -> requests.Session:
    session = browser()
    form = session.get(cluster.base + "/sign-in", timeout=10).text
    answer = session.post(
        cluster.base + "/sign-in",
        data={"csrf_token": CSRF.search(form).group(1), "store": store, "email": email,
              "password": PASSWORD},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    return session


@pytest.fixture(scope="module")
def organisation(cluster):
    store = "acme-" + uuid.uuid4().hex[:6]
    cluster.learnloop("stores", "create", store)
    made = cluster.learnloop("credentials", "create", "--store", store)
    key = re.search(r"^key:\s+(\S+)", made, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)", made, re.M).group(1)
    done = subprocess.run(
        [str(LEARNLOOP), "accounts", "create", "--store", store, "--email", "admin@acme.test",
         "--admin", "--password", PASSWORD],
        env=cluster.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return store, key, secret


def test_the_balancer_alternates_between_two_ready_nodes(cluster):
    served = [cluster.node_of(requests.get(cluster.base + "/health/ready", timeout=5))
              for _ in range(6)]  # fmt: skip
    assert set(served) == {"node0", "node1"}
    assert all(a != b for a, b in zip(served, served[1:], strict=False))


def test_a_statement_written_through_one_node_is_read_through_the_other(cluster, organisation):
    _, key, secret = organisation
    for n in range(6):
        body = {"id": str(uuid.uuid4()), "actor": {"mbox": f"mailto:l{n}@acme.test"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": f"http://acme.test/c/{n}"}}  # fmt: skip
        wrote = requests.post(cluster.base + "/xapi/statements", json=body, auth=(key, secret),
                              headers=VERSION, timeout=10)  # fmt: skip
        assert wrote.status_code == 200, wrote.text
        read = requests.get(cluster.base + "/xapi/statements", params={"statementId": body["id"]},
                            auth=(key, secret), headers=VERSION, timeout=10)  # fmt: skip
        assert read.status_code == 200, read.text
        assert cluster.node_of(read) != cluster.node_of(wrote)
        assert read.json()["id"] == body["id"]


def test_a_page_session_from_one_node_is_valid_on_the_other(cluster, organisation):
    store, _, _ = organisation
    session = signed_in_session(cluster, store, "admin@acme.test")
    nodes = set()
    for _ in range(4):
        page = session.get(cluster.base + "/admin/people", timeout=10, allow_redirects=False)
        assert page.status_code == 200, page.text[:300]
        nodes.add(cluster.node_of(page))
    assert nodes == {"node0", "node1"}
    signed_out = session.post(
        cluster.base + "/sign-out",
        data={"csrf_token": CSRF.search(page.text).group(1)}, allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert signed_out.status_code in (302, 303)
    for _ in range(2):  # signing out on one node ends the session on both
        again = session.get(cluster.base + "/admin/people", timeout=10, allow_redirects=False)
        assert again.status_code == 302 and "/sign-in" in again.headers["Location"]


def test_failed_credential_checks_are_counted_across_nodes(cluster, organisation):
    store, _, _ = organisation
    made = cluster.learnloop("credentials", "create", "--store", store, "--label", "guessed")
    key = re.search(r"^key:\s+(\S+)", made, re.M).group(1)
    statuses, nodes = [], []
    for _ in range(12):  # past the limit per key and client address (10), over both nodes
        refused = requests.get(cluster.base + "/xapi/statements", auth=(key, "wrong-secret-x"),
                               headers=VERSION, timeout=10)  # fmt: skip
        statuses.append(refused.status_code)
        nodes.append(cluster.node_of(refused))
    assert statuses == [401] * 10 + [429, 429]
    assert set(nodes[:10]) == {"node0", "node1"} and set(nodes[10:]) == {"node0", "node1"}
    assert int(refused.headers["Retry-After"]) > 0


def test_a_revoked_credential_stops_on_every_node_within_the_cache_time(cluster, organisation):
    store, _, _ = organisation
    made = cluster.learnloop("credentials", "create", "--store", store, "--label", "to revoke")
    key = re.search(r"^key:\s+(\S+)", made, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)", made, re.M).group(1)
    for _ in range(2):  # both nodes have checked it, and remember it for the cache time
        ok = requests.get(cluster.base + "/xapi/statements", auth=(key, secret), headers=VERSION,
                          timeout=10)  # fmt: skip
        assert ok.status_code == 200
    session = signed_in_session(cluster, store, "admin@acme.test")
    page = session.get(cluster.base + "/admin", timeout=10)
    assert page.status_code == 200, page.text[:300]
    row = next(r for r in re.findall(r"<tr[ >].*?</tr>", page.text, re.S) if key in r)
    action = re.search(r'action="([^"]+/revoke)"', row)
    assert action, "the credentials page lists the key with its revoke form"
    revoked = session.post(
        cluster.base + action.group(1),
        data={"csrf_token": CSRF.search(page.text).group(1)}, allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert revoked.status_code in (200, 302, 303), revoked.text[:300]
    time.sleep(AUTH_CACHE_SECONDS + 0.5)
    after = [requests.get(cluster.base + "/xapi/statements", auth=(key, secret),
                          headers=VERSION, timeout=10) for _ in range(2)]  # fmt: skip
    assert [a.status_code for a in after] == [401, 401]
    assert {cluster.node_of(a) for a in after} == {"node0", "node1"}


def test_an_lti_login_on_one_node_launches_on_the_other(cluster, organisation):
    store, key, secret = organisation
    lms = LmsPlatform(page_size=10)
    with serve(lms.app) as lms_base:
        lms.start(lms_base, cluster.base)
        created = requests.post(
            cluster.base + "/api/admin/lti/registrations",
            json=lms.registration_payload(),
            auth=(key, secret),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        lms.add_user(User("u1", "Ann Learner", "ann@acme.test", [LEARNER]))
        lms.add_user(User("u2", "Ian Instructor", "ian@acme.test", [INSTRUCTOR]))
        for user in ("u1", "u2", "u1"):
            tab = browser()
            form_page = tab.get(lms.launch_url(user, "resource", "rl-1"), timeout=10)
            assert form_page.status_code == 200, form_page.text[:500]
            login_node = cluster.node_of(form_page.history[1])  # the tool's /lti/login answer
            action, fields = form_of(form_page.text)
            launched = tab.post(action, data=fields, timeout=10)
            assert launched.status_code == 200, launched.text[:500]
            assert cluster.node_of(launched) != login_node
            assert "Ann Learner" in launched.text or "Secure Software" in launched.text
