"""Statement forwarding to a second Learnloop served as a real process (issue 17, part 1).

The source is the app under test on SQLite and PostgreSQL; the destination is another
``learnloop serve`` on a free port. Statements go through the source's write path and its
worker (the durable queue), never straight to the destination; what arrived is read back
from the destination over HTTP, in its stored order.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from learnloop.worker import Worker, WorkerSettings
from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.forwarding import services
from lrs.forwarding.models import Destination
from lrs.forwarding.rules import RuleSpec
from lrs.forwarding.settings import EXTENSION, ForwardingConfig
from lrs.models import Store
from tests.forwarding.destination import Destination as Server
from tests.support.worker import drain

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"


@pytest.fixture(scope="module")
def destination(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("destination"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config(app):
    """Fast retries for tests; loopback http allowed (the destination runs on 127.0.0.1)."""
    before = app.extensions.get(EXTENSION)
    app.extensions[EXTENSION] = ForwardingConfig(
        allow_http_loopback=True,
        backoff_base_ms=100,
        backoff_cap_ms=400,
        max_failures=1000,
        batch_size=7,
        read_timeout=5,
        total_timeout=10,
    )
    yield app.extensions[EXTENSION]
    app.extensions[EXTENSION] = before


def statement(verb: str, domain: str, n: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:person{n}@{domain}", "objectType": "Agent"},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"id": f"https://courses.example/forwarding/{n}", "objectType": "Activity"},
    }


def post(lrs, statements: list[dict]) -> None:
    for start in range(0, len(statements), 5):  # several write batches, several jobs
        answer = lrs.post("/statements", json=statements[start : start + 5])
        assert answer.status_code == 200, answer.get_data(as_text=True)


def mixed(count: int, offset: int = 0) -> tuple[list[dict], list[str]]:
    """``count`` statements, about half of which match (completed, by someone @acme.test)."""
    sent, matching = [], []
    for n in range(offset, offset + count):
        verb = COMPLETED if n % 3 != 1 else EXPERIENCED
        domain = "acme.test" if n % 4 != 2 else "other.test"
        s = statement(verb, domain, n)
        sent.append(s)
        if verb == COMPLETED and domain == "acme.test":
            matching.append(s["id"])
    return sent, matching


def store_id_of(app, lrs) -> int:
    with read_transaction(app.extensions["lrs"].sessions) as session:
        principal = app.extensions["lrs"].authenticator.authenticate(
            session, lrs.headers()["Authorization"]
        )
        return principal.store_id


def add_destination(app, store_id: int, server: Server, config, name="archive") -> int:
    runtime = app.extensions["lrs"]
    with write_transaction(runtime.sessions) as session:
        made = services.create_destination(
            session,
            store_id,
            services.NewDestination(name, server.endpoint, server.key, server.secret),
            config,
            services.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
        services.add_rule(session, made, RuleSpec(verb=COMPLETED, actor_domain="acme.test"))
        return made.id


def destination_row(app, destination_id: int) -> Destination:
    with read_transaction(app.extensions["lrs"].sessions) as session:
        row = session.get(Destination, destination_id)
        session.expunge(row)  # keep its loaded values after the read ends
        return row


def log(app, store_id: int, destination_id: int) -> list[deliveries.Delivery]:
    with read_transaction(app.extensions["lrs"].sessions) as session:
        rows = deliveries.recent(session, store_id, deliveries.FORWARD, destination_id, 1000)
        session.expunge_all()
        return list(reversed(rows))


def run_worker_for(app, seconds: float) -> int:
    """Run the worker as ``learnloop worker`` would, for a while; how many jobs ran."""
    worker = Worker(app, WorkerSettings(poll_seconds=0.02))
    ran, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.run_one():
            ran += 1
        else:
            time.sleep(0.02)
    return ran


def arrived_ids(server: Server, run_id_set: set[str]) -> list[str]:
    return [s["id"] for s in server.statements() if s["id"] in run_id_set]


def test_matching_statements_arrive_in_order_once_even_when_the_destination_is_down_a_while(
    app, lrs, destination, config
):
    store_id = store_id_of(app, lrs)
    before = statement(COMPLETED, "acme.test", 999)  # stored before the destination existed
    post(lrs, [before])
    destination_id = add_destination(app, store_id, destination, config)

    first, first_matching = mixed(24)
    post(lrs, first)
    drain(app)
    everything = {s["id"] for s in [before, *first]}
    assert arrived_ids(destination, everything) == first_matching

    destination.stop()
    second, second_matching = mixed(30, offset=100)
    post(lrs, second)
    run_worker_for(app, 2.0)  # the destination is down: attempts fail, backing off
    down = destination_row(app, destination_id)
    assert down.state == "active" and down.failures >= 2
    assert "could not be reached" in down.last_error
    retrying = [d for d in log(app, store_id, destination_id) if d.outcome == "retrying"]
    assert len(retrying) >= 2 and all(d.status == 0 for d in retrying)
    assert "next attempt in" in retrying[-1].message

    destination.start()
    third, third_matching = mixed(10, offset=200)
    post(lrs, third)
    drain(app, horizon_ms=2_000)
    everything |= {s["id"] for s in second + third}
    wanted = first_matching + second_matching + third_matching
    assert arrived_ids(destination, everything) == wanted  # all, in order, none twice

    up = destination_row(app, destination_id)
    assert (up.state, up.failures, up.last_error) == ("active", 0, "")
    assert up.delivered == len(wanted)
    delivered = [d for d in log(app, store_id, destination_id) if d.outcome == "delivered"]
    assert sum(d.items for d in delivered) == len(wanted)
    assert all(d.items <= config.batch_size for d in delivered)
    ranges = [(d.first_seq, d.last_seq) for d in delivered]
    assert ranges == sorted(ranges) and all(a <= b for a, b in ranges)
    assert log(app, store_id, destination_id)[-1].outcome == "delivered"


def test_a_destination_dead_lettered_after_failures_resumes_where_it_stopped(
    app, lrs, destination, config
):
    app.extensions[EXTENSION] = ForwardingConfig(
        **{**config.__dict__, "max_failures": 3, "backoff_base_ms": 50, "backoff_cap_ms": 100}
    )
    store_id = store_id_of(app, lrs)
    destination_id = add_destination(app, store_id, destination, config, name="dead-letter")
    destination.stop()
    sent, matching = mixed(12)
    post(lrs, sent)
    run_worker_for(app, 1.5)
    dead = destination_row(app, destination_id)
    assert dead.state == "dead" and dead.failures == 3
    entries = log(app, store_id, destination_id)
    assert [d.outcome for d in entries] == ["retrying", "retrying", "dead"]
    assert "until an administrator resumes it" in entries[-1].message

    destination.start()
    drain(app)  # dead: nothing is sent, even with the destination back
    assert arrived_ids(destination, {s["id"] for s in sent}) == []

    runtime = app.extensions["lrs"]
    with write_transaction(runtime.sessions) as session:
        services.resume(session, session.get(Destination, destination_id), runtime.clock())
    drain(app)
    assert arrived_ids(destination, {s["id"] for s in sent}) == matching
    assert destination_row(app, destination_id).state == "active"


def test_replay_sends_again_from_a_point_in_time_and_the_destination_keeps_one_copy(
    app, lrs, destination, config
):
    store_id = store_id_of(app, lrs)
    destination_id = add_destination(app, store_id, destination, config, name="replayed")
    early, early_matching = mixed(9)
    post(lrs, early)
    drain(app)
    time.sleep(0.01)
    runtime = app.extensions["lrs"]
    since = runtime.clock()
    late, late_matching = mixed(9, offset=50)
    post(lrs, late)
    drain(app)
    ids = {s["id"] for s in early + late}
    assert arrived_ids(destination, ids) == early_matching + late_matching
    delivered_before = len(
        [d for d in log(app, store_id, destination_id) if d.outcome == "delivered"]
    )

    with write_transaction(runtime.sessions) as session:
        row = session.get(Destination, destination_id)
        services.replay(session, row, since, runtime.clock())
    drain(app)
    entries = [d for d in log(app, store_id, destination_id) if d.outcome == "delivered"]
    replayed = entries[delivered_before:]
    assert sum(d.items for d in replayed) == len(late_matching)  # only what came after `since`
    assert arrived_ids(destination, ids) == early_matching + late_matching  # no duplicates


def test_a_destination_that_points_inside_is_refused_naming_the_field(app, lrs):
    store_id = store_id_of(app, lrs)
    runtime = app.extensions["lrs"]
    from lrs.errors import BadRequest

    with pytest.raises(BadRequest) as refused, write_transaction(runtime.sessions) as session:
        services.create_destination(
            session,
            store_id,
            services.NewDestination("inside", "http://127.0.0.1:9/xapi", "k", "s"),
            ForwardingConfig(),  # loopback not allowed
            services.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
    assert refused.value.errors[0].path == "endpoint"
    with read_transaction(runtime.sessions) as session:
        assert session.get(Store, store_id) is not None
        assert services.list_destinations(session, store_id) == []


def test_an_oauth_destination_is_sent_statements_with_a_client_credentials_token(
    app, lrs, destination, config
):
    store_id = store_id_of(app, lrs)
    runtime = app.extensions["lrs"]
    tokens_before = destination.tokens_issued()
    with write_transaction(runtime.sessions) as session:
        made = services.create_destination(
            session,
            store_id,
            services.NewDestination(
                "oauth",
                destination.endpoint,
                destination.key,
                destination.secret,
                auth="oauth",
                token_url=f"http://127.0.0.1:{destination.port}/oauth/token",
            ),
            config,
            services.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
        destination_id = made.id
    sent, _ = mixed(8)
    post(lrs, sent)
    drain(app)
    post(lrs, [statement(COMPLETED, "acme.test", 77)])
    drain(app)
    assert arrived_ids(destination, {s["id"] for s in sent}) == [s["id"] for s in sent]
    entries = log(app, store_id, destination_id)
    assert [e.outcome for e in entries] == ["delivered"] * len(entries) and len(entries) >= 2
    assert destination.tokens_issued() == tokens_before + 1  # one token, kept until it expires


def test_a_destination_that_refuses_the_batch_is_dead_lettered_at_once_with_its_answer(
    app, lrs, destination, config
):
    store_id = store_id_of(app, lrs)
    runtime = app.extensions["lrs"]
    with write_transaction(runtime.sessions) as session:
        made = services.create_destination(
            session,
            store_id,
            services.NewDestination(
                "wrong-path", destination.endpoint + "/nowhere", destination.key, destination.secret
            ),
            config,
            services.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
        destination_id = made.id
    post(lrs, [statement(COMPLETED, "acme.test", 1)])
    drain(app)
    row = destination_row(app, destination_id)
    assert (row.state, row.failures, row.cursor_seq) == ("dead", 1, made.cursor_seq)
    [entry] = log(app, store_id, destination_id)
    assert (entry.outcome, entry.status) == ("dead", 404)
    assert "the destination answered 404" in entry.message
    assert "it refuses these statements" in entry.message


def test_two_workers_never_send_a_destination_the_same_batch_twice(app, lrs, destination, config):
    import threading

    store_id = store_id_of(app, lrs)
    destination_id = add_destination(app, store_id, destination, config, name="two-workers")
    workers = [Worker(app, WorkerSettings(poll_seconds=0.01)) for _ in range(2)]
    threads = [threading.Thread(target=w.run_forever, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    try:
        sent, matching = [], []
        for round_ in range(6):  # batches keep arriving while the workers send
            more, wanted = mixed(15, offset=round_ * 15)
            post(lrs, more)
            sent += more
            matching += wanted
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while destination_row(app, destination_id).delivered < len(matching):
            assert time.monotonic() < deadline, "forwarding did not catch up"
            time.sleep(0.1)
    finally:
        for w in workers:
            w.stop()
        for thread in threads:
            thread.join(10)
    assert arrived_ids(destination, {s["id"] for s in sent}) == matching
    ranges = sorted(
        (d.first_seq, d.last_seq)
        for d in log(app, store_id, destination_id)
        if d.outcome == "delivered"
    )
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))  # no batch twice
    assert destination_row(app, destination_id).delivered == len(matching)


def test_attachment_data_is_forwarded_with_its_statement_as_multipart(
    app, lrs, destination, config
):
    import hashlib

    import requests

    from lrs.core import multipart

    store_id = store_id_of(app, lrs)
    destination_id = add_destination(app, store_id, destination, config, name="attachments")
    essay = b"An essay\r\n--with a line that looks like a boundary\x00\xff"
    sha2 = hashlib.sha256(essay).hexdigest()
    with_attachment = statement(COMPLETED, "acme.test", 5)
    with_attachment["attachments"] = [
        {
            "usageType": "http://example.com/usage/essay",
            "display": {"en-US": "Essay"},
            "contentType": "text/plain",
            "length": len(essay),
            "sha2": sha2,
        }
    ]
    plain = statement(COMPLETED, "acme.test", 6)
    body, content_type = multipart.build(json.dumps([with_attachment, plain]), [
        ("text/plain", sha2, essay)
    ])  # fmt: skip
    stored = lrs.post("/statements", data=body, headers={"Content-Type": content_type})
    assert stored.status_code == 200, stored.get_data(as_text=True)
    drain(app)
    assert arrived_ids(destination, {with_attachment["id"], plain["id"]}) == [
        with_attachment["id"],
        plain["id"],
    ]
    got = requests.get(
        f"{destination.endpoint}/statements",
        params={"statementId": with_attachment["id"], "attachments": "true"},
        headers=destination.headers(),
        timeout=30,
    )
    parts = multipart.parse(got.content, multipart.boundary_of(got.headers["Content-Type"]))
    assert bytes(parts[1].content) == essay
    assert destination_row(app, destination_id).state == "active"


@pytest.mark.parametrize("sent_as", ["1.0.3", "2.0.0"])
def test_statements_stored_under_either_version_arrive_whatever_version_is_sent(
    app, lrs, destination, config, sent_as
):
    store_id = store_id_of(app, lrs)
    runtime = app.extensions["lrs"]
    with write_transaction(runtime.sessions) as session:
        made = services.create_destination(
            session,
            store_id,
            services.NewDestination(
                f"as-{sent_as}",
                destination.endpoint,
                destination.key,
                destination.secret,
                version=sent_as,
            ),
            config,
            services.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
    old, new = statement(COMPLETED, "acme.test", 1), statement(COMPLETED, "acme.test", 2)
    assert lrs.post("/statements", json=[old], version="1.0.3").status_code == 200
    assert lrs.post("/statements", json=[new], version="2.0.0").status_code == 200
    drain(app)
    assert arrived_ids(destination, {old["id"], new["id"]}) == [old["id"], new["id"]]
    assert destination_row(app, made.id).state == "active"
