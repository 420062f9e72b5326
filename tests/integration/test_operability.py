"""Issue 16, operable in production: health, metrics and logs of one app (in process).

The served figures across several gunicorn workers are in ``test_serving.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import time
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from learnloop import create_app
from learnloop.cli import upgrade_database
from learnloop.logs import ACCESS, JsonFormatter
from learnloop.schema import code_heads
from learnloop.worker import Worker, WorkerSettings
from lrs import outbound, queue
from lrs import vocabulary as v
from lrs.auth import get_or_create_store
from lrs.db import write_transaction
from lrs.errors import UnsafeUrl
from objectives import accounts
from schemas.errors import ConfigError
from tests.conftest import XapiClient, make_credential

TOKEN = "metrics-" + "t" * 24
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('operability') / 'db.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade_database(url)
    return url


_made = []


def make_app(database, monkeypatch, **env):
    for name in ("LEARNLOOP_METRICS_TOKEN", "LEARNLOOP_READY_MAX_LAG_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    made = create_app({"database_url": database, "public_url": "http://localhost"})
    _made.append(made)
    return made


@pytest.fixture(autouse=True)
def _dispose_apps():
    yield
    while _made:
        _made.pop().extensions["learnloop"].engine.dispose()


@pytest.fixture
def app(database, monkeypatch):
    return make_app(database, monkeypatch)


def samples(app) -> dict[tuple[str, frozenset], float]:
    """Every sample /metrics serves, by name and labels."""
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def statement(n: int = 0) -> dict:
    return {
        "actor": {"mbox": f"mailto:ops-{uuid.uuid4().hex[:8]}@example.com"},
        "verb": {"id": v.EXPERIENCED},
        "object": {"id": f"http://example.com/ops/{n}"},
    }


# ---- health ---------------------------------------------------------------------------------


def test_live_answers_without_asking_the_database(app):
    app.extensions["learnloop"].engine.dispose()
    answer = app.test_client().get("/health/live")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "checks": {"process": {"ok": True}}}
    assert answer.headers["X-Request-Id"]


def test_ready_names_each_check_and_says_nothing_secret(app, database):
    answer = app.test_client().get("/health/ready")
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "queue"}
    assert body["checks"]["migrations"]["database"] == sorted(code_heads())
    assert body["checks"]["queue"]["max_lag_seconds"] == 60
    assert database not in answer.get_data(as_text=True)


def test_ready_is_503_when_the_database_is_behind_the_code(tmp_path, monkeypatch):
    from alembic.script import ScriptDirectory

    import migrations

    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    upgrade_database(url)
    scripts = ScriptDirectory(migrations.__path__[0])
    (head,) = code_heads()
    previous = scripts.get_revision(head).down_revision
    app = make_app(url, monkeypatch)
    engine = app.extensions["learnloop"].engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": previous})
    answer = app.test_client().get("/health/ready")
    body = answer.get_json()
    assert answer.status_code == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": False, "database": [previous], "code": [head]}


def test_ready_is_503_when_the_database_was_never_migrated(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = make_app(url, monkeypatch)
    answer = app.test_client().get("/health/ready")
    checks = answer.get_json()["checks"]
    assert answer.status_code == 503
    assert checks["database"]["ok"] and not checks["migrations"]["ok"]
    assert checks["migrations"]["database"] == []
    assert checks["queue"] == {"ok": False, "reason": "the queue could not be read"}
    assert url not in answer.get_data(as_text=True)


def test_ready_is_503_when_the_queue_lags_past_the_threshold(database, monkeypatch):
    app = make_app(database, monkeypatch, LEARNLOOP_READY_MAX_LAG_SECONDS="30")
    runtime = app.extensions["learnloop"]
    kind = f"lag-{uuid.uuid4().hex[:6]}"
    with write_transaction(runtime.sessions) as session:
        store_id = get_or_create_store(session, f"lag-{uuid.uuid4().hex[:6]}").id
        queue.enqueue(session, store_id, kind, "k", now_ms=runtime.clock() - 45_000)
    try:
        answer = app.test_client().get("/health/ready")
        checks = answer.get_json()["checks"]
        assert answer.status_code == 503
        assert checks["database"]["ok"] and checks["migrations"]["ok"]
        assert checks["queue"]["ok"] is False and checks["queue"]["lag_seconds"] >= 45
        assert checks["queue"]["max_lag_seconds"] == 30

        patient = make_app(database, monkeypatch, LEARNLOOP_READY_MAX_LAG_SECONDS="120")
        assert patient.test_client().get("/health/ready").status_code == 200
        off = make_app(database, monkeypatch, LEARNLOOP_READY_MAX_LAG_SECONDS="0")
        assert off.test_client().get("/health/ready").status_code == 200

        found = samples(app)
        assert value(found, "learnloop_queue_jobs", kind=kind, state="pending") == 1
        assert value(found, "learnloop_queue_due_jobs") >= 1
        assert value(found, "learnloop_queue_lag_seconds") >= 45
    finally:
        with write_transaction(runtime.sessions) as session:
            session.execute(text("DELETE FROM jobs WHERE kind = :k"), {"k": kind})


@pytest.mark.parametrize("bad", ["soon", "-1", "nan", "inf"])
def test_a_bad_lag_threshold_stops_the_start(database, monkeypatch, bad):
    with pytest.raises(ConfigError, match="LEARNLOOP_READY_MAX_LAG_SECONDS"):
        make_app(database, monkeypatch, LEARNLOOP_READY_MAX_LAG_SECONDS=bad)


# ---- who may read /metrics ------------------------------------------------------------------


def test_metrics_from_this_machine_only_by_default(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["code"] == "forbidden" and "LEARNLOOP_METRICS_TOKEN" in body["message"]
    assert refused.headers["X-Request-Id"]
    # A local proxy that is not trusted forwards everyone from 127.0.0.1: not local.
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert proxied.status_code == 403


def test_metrics_from_elsewhere_with_the_token(database, monkeypatch):
    app = make_app(database, monkeypatch, LEARNLOOP_METRICS_TOKEN=TOKEN)
    client = app.test_client()
    missing = client.get("/metrics", environ_base=OUTSIDE)
    assert missing.status_code == 401 and missing.get_json()["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get(
        "/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"}
    )
    assert wrong.status_code == 401
    basic = base64.b64encode(f"x:{TOKEN}".encode()).decode()
    assert (
        client.get(
            "/metrics", environ_base=OUTSIDE, headers={"Authorization": "Basic " + basic}
        ).status_code
        == 401
    )
    allowed = client.get(
        "/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + TOKEN}
    )
    assert allowed.status_code == 200 and b"learnloop_http_requests_total" in allowed.data
    assert client.get("/metrics").status_code == 200  # loopback still needs no token


def test_metrics_behind_a_trusted_proxy_need_the_token(database, monkeypatch):
    monkeypatch.setenv("LEARNLOOP_TRUSTED_PROXIES", "127.0.0.1")
    app = make_app(database, monkeypatch, LEARNLOOP_METRICS_TOKEN=TOKEN)
    client = app.test_client()
    forwarded = {"X-Forwarded-For": "198.51.100.4"}
    assert client.get("/metrics", headers=forwarded).status_code == 401
    with_token = {**forwarded, "Authorization": "Bearer " + TOKEN}
    assert client.get("/metrics", headers=with_token).status_code == 200


def test_a_short_metrics_token_stops_the_start(database, monkeypatch):
    with pytest.raises(ConfigError, match="LEARNLOOP_METRICS_TOKEN"):
        make_app(database, monkeypatch, LEARNLOOP_METRICS_TOKEN="short")


# ---- what is counted ------------------------------------------------------------------------


def test_requests_by_route_statements_after_commit_and_jobs_run(app):
    _, key, secret = make_credential(app)
    lrs = XapiClient(app, key, secret)
    before = samples(app)
    for n in range(3):
        assert lrs.post("/statements", json=[statement(n), statement(n + 10)]).status_code == 200
    assert lrs.get("/about").status_code == 200
    bad = dict(statement(), verb={"id": "not an IRI"})
    assert lrs.post("/statements", json=bad).status_code == 400  # nothing stored, nothing counted
    lrs.get(f"/statements?statementId={uuid.uuid4()}")
    time.sleep(queue.STATEMENTS_DELAY_MS / 1000 + 0.05)
    Worker(app, WorkerSettings()).drain()
    after = samples(app)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    post = {"method": "POST", "route": "/xapi/statements"}
    assert delta("learnloop_http_requests_total", **post, status="200") == 3
    assert delta("learnloop_http_requests_total", **post, status="400") == 1
    assert delta("learnloop_http_requests_total", method="GET", route="/xapi/about", status="200")
    assert delta("learnloop_http_request_duration_seconds_count", **post) == 4
    assert delta("learnloop_statements_stored_total", source="xapi") == 6
    assert delta("learnloop_queue_jobs_run_total", kind="statements", result="done") >= 1
    assert delta("learnloop_queue_job_duration_seconds_count", kind="statements") >= 1
    assert not any(
        "/statements?" in dict(labels).get("route", "") or key in str(labels) for _, labels in after
    )


def test_unmatched_paths_share_one_route_label(app):
    client = app.test_client()
    before = samples(app)
    for _ in range(3):
        assert client.get(f"/no-such-page-{uuid.uuid4().hex}").status_code == 404
    after = samples(app)
    labels = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert (
        value(after, "learnloop_http_requests_total", **labels)
        - value(before, "learnloop_http_requests_total", **labels)
        == 3
    )
    assert not any("no-such-page" in str(labels) for _, labels in after)


def test_webhook_deliveries_by_connector_and_result(app):
    _, key, secret = make_credential(app, scopes=["all"])
    admin = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}
    client = app.test_client()
    created = client.post("/api/admin/connectors", json={"kind": "github"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    connector = created.get_json()
    before = samples(app)
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    signature = hmac.new(connector["secret"].encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.uuid4()),
    }
    url = f"/connectors/github/{connector['id']}"
    good = client.post(
        url, data=body, headers={**headers, "X-Hub-Signature-256": "sha256=" + signature}
    )
    forged = client.post(
        url, data=body, headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    assert forged.status_code == 401
    after = samples(app)

    def delta(**labels):
        name = "learnloop_webhook_deliveries_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert good.status_code in (200, 202), good.get_json()
    assert delta(connector="github", result="unverified") == 1
    assert sum(delta(connector="github", result=r) for r in ("stored", "ignored", "duplicate")) == 1


def test_lti_launches_and_outbound_calls_by_result(app):
    before = samples(app)
    refused = app.test_client().post(
        "/lti/launch", data={"id_token": "a.b.c", "state": "no-such-state"}
    )
    assert refused.status_code >= 400
    with pytest.raises(UnsafeUrl):
        outbound.send(
            outbound.OutboundGuard(), outbound.Limits(), "GET", "https://127.0.0.1/", name="x"
        )
    after = samples(app)
    launches = {
        dict(labels)["result"]: count - value(before, name, **dict(labels))
        for (name, labels), count in after.items()
        if name == "learnloop_lti_launches_total"
    }
    assert sum(launches.values()) == 1 and launches.get("ok", 0) == 0  # other tests may launch
    assert (
        value(after, "learnloop_outbound_requests_total", result="refused")
        - value(before, "learnloop_outbound_requests_total", result="refused")
        == 1
    )


# ---- logs: one access line per request, never a secret --------------------------------------


@pytest.fixture
def captured():
    """Every record at any level, formatted as the service writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_no_secret_is_logged_and_each_request_has_one_access_line(app, captured):
    client = app.test_client()
    runtime = app.extensions["learnloop"]
    store, key, secret = make_credential(app, scopes=["all"])
    password = "pw-" + uuid.uuid4().hex
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    with write_transaction(runtime.sessions) as db:
        store_id = get_or_create_store(db, store).id
        accounts.create_account(db, store_id, email, password)
    basic = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}
    xapi = {**basic, "X-Experience-API-Version": "2.0.0"}
    wrong = "wrong-" + uuid.uuid4().hex
    bad_basic = base64.b64encode(f"{key}:{wrong}".encode()).decode()
    query_token = "qt-" + uuid.uuid4().hex
    id_token = "eyJ" + uuid.uuid4().hex + ".eyJ" + uuid.uuid4().hex + "." + uuid.uuid4().hex
    state = "state-" + uuid.uuid4().hex
    welcome = "welcome-" + uuid.uuid4().hex
    secrets = [secret, wrong, password, query_token, id_token, state, welcome]
    answers = []

    def send(method, path, **kwargs):
        answer = client.open(path, method=method, **kwargs)
        answers.append(answer)
        return answer

    send("POST", "/xapi/statements", json=statement(), headers=xapi)
    send("GET", "/xapi/statements", headers={**xapi, "Authorization": "Basic " + bad_basic})
    send("GET", f"/xapi/about?token={query_token}&access_token={query_token}")
    issued = send(
        "POST", "/api/tokens", json={"store": store, "email": email, "password": password}
    )
    assert issued.status_code in (200, 201), issued.get_json()
    bearer = issued.get_json()["token"]
    secrets.append(bearer)
    assert send("GET", "/api/me", headers={"Authorization": "Bearer " + bearer}).status_code == 200
    send("GET", "/api/me", headers={"Authorization": "Bearer " + wrong})
    send("GET", "/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + wrong})
    form = send("GET", "/sign-in").get_data(as_text=True)
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    send(
        "POST",
        "/sign-in",
        data={"csrf_token": csrf, "store": store, "email": email, "password": password},
    )
    send("POST", "/sign-in", data={"store": store, "email": email, "password": wrong})
    send("POST", "/lti/launch", data={"id_token": id_token, "state": state})
    send(
        "POST",
        "/lti/launch",
        data={"id_token": id_token, "state": state},
        headers={"Accept": "application/json"},
    )
    welcomed = send("GET", f"/welcome/{welcome}")
    created = send("POST", "/api/admin/connectors", json={"kind": "gitlab"}, headers=basic)
    assert created.status_code == 201, created.get_json()
    hook_secret = created.get_json()["secret"]
    secrets.append(hook_secret)
    gitlab = f"/connectors/gitlab/{created.get_json()['id']}"
    hook = {"Content-Type": "application/json", "X-Gitlab-Event": "Merge Request Hook"}
    send(
        "POST",
        gitlab,
        json={"object_kind": "merge_request"},
        headers={**hook, "X-Gitlab-Token": hook_secret},
    )
    send(
        "POST",
        gitlab,
        json={"object_kind": "merge_request"},
        headers={**hook, "X-Gitlab-Token": wrong},
    )
    send("POST", "/xapi/statements", headers=xapi, data=b"{not json")
    send("GET", "/health/ready")

    output = captured.getvalue()
    for value_ in secrets:
        assert value_ not in output, f"a secret was logged: {value_[:12]}..."
    assert base64.b64encode(f"{key}:{secret}".encode()).decode() not in output
    assert bad_basic not in output and "Authorization" not in output

    lines = [json.loads(line) for line in output.splitlines()]
    access = [line for line in lines if line["logger"] == ACCESS]
    assert len(access) == len(answers)
    by_id = {line["request_id"]: line for line in access}
    assert [answer.headers["X-Request-Id"] for answer in answers] == [
        line["request_id"] for line in access
    ]
    assert len(by_id) == len(answers)
    first = by_id[answers[0].headers["X-Request-Id"]]
    assert first["route"] == "/xapi/statements" and first["status"] == 200
    assert first["credential"] == key and first["method"] == "POST"
    assert first["duration_ms"] >= 0 and first["remote_addr"] == "127.0.0.1"
    assert by_id[answers[2].headers["X-Request-Id"]]["path"] == "/xapi/about"
    assert by_id[answers[4].headers["X-Request-Id"]]["account_id"] > 0
    assert by_id[welcomed.headers["X-Request-Id"]]["path"] == "/welcome/[redacted]"
    for line in lines:
        assert {"ts", "level", "logger", "pid", "message"} <= set(line)


def test_a_sane_incoming_request_id_is_kept_and_an_unexpected_error_logs_it(app, captured):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    kept = client.get("/xapi/about", headers={"X-Request-Id": "trace-123.abc"})
    assert kept.headers["X-Request-Id"] == "trace-123.abc"
    forged = client.get("/xapi/about", headers={"X-Request-Id": "bad id {with} spaces"})
    assert forged.headers["X-Request-Id"] != "bad id {with} spaces"
    failed = client.get("/boom-for-test?token=abc")
    assert failed.status_code == 500
    rid = failed.headers["X-Request-Id"]
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    errors = [line for line in lines if line["logger"] == "learnloop.errors"]
    assert (
        len(errors) == 1 and errors[0]["request_id"] == rid and "RuntimeError" in errors[0]["exc"]
    )
    access = [line for line in lines if line["logger"] == ACCESS]
    assert [line["request_id"] for line in access][-1] == rid
    assert access[-1]["status"] == 500 and access[-1]["route"] == "/boom-for-test"
    assert "token=abc" not in captured.getvalue()
