"""Outbound webhooks for Learnloop's own events (issue 17, part 2), on SQLite and PostgreSQL.

A receiver on 127.0.0.1 records what arrives; the ``standardwebhooks`` reference library checks
each signature with the secret the administrator was shown once. Events come from the real
actions (a manager submits a review through /api; statements meet an objective through the
worker), go through the durable queue, and are retried with backoff when the receiver fails.
"""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from lrs import deliveries, webhooks
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest
from lrs.forwarding.settings import EXTENSION, ForwardingConfig
from lrs.vocabulary import COMPLETED
from tests.forwarding.receiver import Receiver
from tests.support.worker import drain

COURSE = "https://lms.example.com/courses/webhooks-101"


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def loopback(app):
    before = app.extensions.get(EXTENSION)
    app.extensions[EXTENSION] = ForwardingConfig(allow_http_loopback=True, read_timeout=5)
    yield app.extensions[EXTENSION]
    app.extensions[EXTENSION] = before


def register(org, url, events=(), config=None):
    runtime = org.app.extensions["lrs"]
    config = config or org.app.extensions[EXTENSION]
    with write_transaction(runtime.sessions) as session:
        endpoint, secret = webhooks.create_endpoint(
            session,
            org.store_id,
            url,
            list(events),
            "tests",
            config.outbound_guard(),
            webhooks.secret_box(runtime.instance_secret()),
            runtime.clock(),
        )
        return endpoint.id, secret


def log(org, endpoint_id):
    with read_transaction(org.app.extensions["lrs"].sessions) as session:
        rows = deliveries.recent(session, org.store_id, deliveries.WEBHOOK, endpoint_id)
        session.expunge_all()
        return list(reversed(rows))


def verified(secret, received):
    """The payload, once the reference library accepts its signature."""
    headers, body = received
    return Webhook(secret).verify(body, headers)


def submit(org, who="ann"):
    answer = org.client("maya").patch(f"/reviews/{org.reviews[who]}", json={"status": "submitted"})
    assert answer.status_code == 200, answer.get_json()


def test_a_submitted_review_is_posted_signed_the_standard_webhooks_way(org, receiver, loopback):
    endpoint_id, secret = register(org, receiver.url)
    assert secret.startswith("whsec_")
    submit(org)
    drain(org.app)
    assert len(receiver.received) == 1
    payload = verified(secret, receiver.received[0])
    assert payload["type"] == "review.submitted"
    assert payload["data"]["review"]["id"] == org.reviews["ann"]
    assert payload["data"]["person"] == {
        "id": org.people["ann"],
        "name": "Ann",
        "email": "ann@example.com",
    }
    assert payload["data"]["cycle"]["name"] == "2026 H1"
    headers = receiver.received[0][0]
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(receiver.received[0][1], headers)
    [entry] = log(org, endpoint_id)
    assert (entry.outcome, entry.status, entry.event_type) == ("delivered", 204, "review.submitted")
    assert entry.event_id == headers["webhook-id"]


def test_a_failing_endpoint_gets_the_same_event_again_with_backoff(org, receiver, loopback):
    receiver.answers = [500, 503]
    endpoint_id, secret = register(org, receiver.url)
    submit(org, "ben")
    drain(org.app, horizon_ms=3_000, backoff_base_ms=100)
    assert len(receiver.received) == 3
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(ids) == 1  # one event, retried: receivers deduplicate by webhook-id
    assert all(verified(secret, r)["type"] == "review.submitted" for r in receiver.received)
    entries = log(org, endpoint_id)
    assert [(e.outcome, e.status, e.attempt) for e in entries] == [
        ("retrying", 500, 1),
        ("retrying", 503, 2),
        ("delivered", 204, 3),
    ]
    assert entries[0].message == "the endpoint answered 500"


def test_an_event_given_up_after_the_last_attempt_says_so(org, receiver, loopback):
    receiver.answers = [500] * webhooks.ATTEMPTS
    endpoint_id, _ = register(org, receiver.url)
    submit(org, "ben")
    drain(org.app, horizon_ms=3_000, backoff_base_ms=1, max_attempts=webhooks.ATTEMPTS)
    entries = log(org, endpoint_id)
    assert len(entries) == webhooks.ATTEMPTS
    assert entries[-1].outcome == "failed" and "given up" in entries[-1].message


def test_a_met_objective_is_posted_once_and_only_to_endpoints_that_want_it(org, receiver, loopback):
    other = Receiver()
    try:
        _, secret = register(org, receiver.url, events=["objective.met"])
        other_id, _ = register(org, other.url, events=["review.submitted"])
        made = org.client("maya").post(
            f"/reviews/{org.reviews['ann']}/objectives",
            json={
                "title": "Complete Webhooks 101",
                "criteria": [{"verbs": [COMPLETED], "activity_ids": [COURSE]}],
            },
        )
        assert made.status_code == 201, made.get_json()
        statement = {
            "actor": org.mail("ann"),
            "verb": {"id": COMPLETED},
            "object": {"id": COURSE},
            "timestamp": "2026-03-01T10:00:00Z",
        }
        org.write([statement])
        org.write([dict(statement, timestamp="2026-03-02T10:00:00Z")])  # met already: no event
        assert len(receiver.received) == 1
        payload = verified(secret, receiver.received[0])
        assert payload["type"] == "objective.met"
        assert payload["data"]["objective"] == {
            "id": made.get_json()["id"],
            "title": "Complete Webhooks 101",
        }
        assert payload["data"]["person"]["email"] == "ann@example.com"
        assert payload["data"]["met_at"].startswith("2026-03-01T10:00:00")
        assert other.received == [] and log(org, other_id) == []
    finally:
        other.close()


def test_test_send_posts_a_signed_test_event_now_and_logs_the_answer(org, receiver, loopback):
    endpoint_id, secret = register(org, receiver.url)
    runtime = org.app.extensions["lrs"]
    sent = webhooks.test_send(
        runtime.sessions,
        endpoint_id,
        org.store_id,
        runtime.instance_secret(),
        loopback.outbound_guard(),
        loopback.limits(),
        runtime.clock,
    )
    assert sent.ok and sent.status == 204
    assert verified(secret, receiver.received[0])["type"] == "webhook.test"
    assert log(org, endpoint_id)[0].event_type == "webhook.test"


def test_an_endpoint_inside_the_network_or_an_unknown_event_is_refused(org):
    with pytest.raises(BadRequest) as inside:
        register(org, "http://127.0.0.1:9/hook", config=ForwardingConfig())
    assert inside.value.errors[0].path == "url"
    assert inside.value.status == 400
    with pytest.raises(BadRequest) as unknown:
        register(org, "https://hooks.example.com/x", events=["kudos.given"])
    assert unknown.value.errors[0].path == "events"
    assert json.dumps(unknown.value.to_dict())  # renders as the JSON error body


def test_only_the_change_to_submitted_is_an_event(org, receiver, loopback):
    register(org, receiver.url)
    maya = org.client("maya")
    review = f"/reviews/{org.reviews['ann']}"
    assert maya.patch(review, json={"status": "in_progress"}).status_code == 200
    assert maya.patch(review, json={"status": "submitted"}).status_code == 200
    assert maya.patch(review, json={"status": "submitted"}).status_code == 200  # no change
    assert maya.patch(review, json={"manager_comment": "Well done"}).status_code == 200
    drain(org.app)
    assert [json.loads(body)["type"] for _, body in receiver.received] == ["review.submitted"]
