"""The forwarding and webhooks pages: admins only, plain forms, refusals named, secrets once.

Flask's test client through the real routes, on SQLite and PostgreSQL; what each form leaves in
the database and in the audit trail is read back.
"""

from __future__ import annotations

import html
import time
import uuid

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from lrs.audit import AuditEvent
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.forwarding.models import Destination, Rule
from lrs.forwarding.settings import EXTENSION, ForwardingConfig
from lrs.webhooks import WebhookEndpoint
from objectives import accounts
from tests.forwarding.receiver import Receiver

PAGES = ("/admin/forwarding", "/admin/webhooks")


class Org:
    def __init__(self, app):
        self.app = app
        self.sessions = app.extensions["learnloop"].sessions
        with write_transaction(self.sessions) as session:
            store = get_or_create_store(session, f"fwd-{uuid.uuid4().hex[:10]}")
            self.store_id = store.id
            self.admin = accounts.create_account(
                session, store.id, "admin@acme.test", None, is_admin=True
            )
            self.learner = accounts.create_account(session, store.id, "ann@acme.test", None)

    def client(self, account):
        client = self.app.test_client()
        if account is not None:
            with client.session_transaction() as cookie:
                cookie.update(
                    {
                        "account_id": account.id,
                        "epoch": account.session_epoch,
                        "at": int(time.time()),
                        "csrf": "token",
                    }
                )
        return client

    def post(self, path, data):
        return self.client(self.admin).post(path, data={"csrf_token": "token", **data})

    def rows(self, model, *where):
        with read_transaction(self.sessions) as session:
            found = list(session.scalars(select(model).where(*where)))
            session.expunge_all()
            return found

    def actions(self):
        return [
            e.action
            for e in sorted(
                self.rows(AuditEvent, AuditEvent.store_id == self.store_id), key=lambda e: e.id
            )
            if e.action.startswith(("forwarding", "webhook"))
        ]


@pytest.fixture
def org(app):
    before = app.extensions.get(EXTENSION)
    app.extensions[EXTENSION] = ForwardingConfig(allow_http_loopback=True, read_timeout=5)
    yield Org(app)
    app.extensions[EXTENSION] = before


@pytest.mark.parametrize("path", PAGES)
def test_only_administrators_open_the_pages(org, path):
    assert org.client(org.admin).get(path).status_code == 200
    assert org.client(org.learner).get(path).status_code == 403
    signed_out = org.client(None).get(path)
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]
    refused = org.client(org.learner).post(path, data={"csrf_token": "token", "action": "create"})
    assert refused.status_code == 403


def test_an_administrator_sets_up_a_destination_with_rules_pause_resume_and_replay(org):
    page = org.post(
        "/admin/forwarding",
        {
            "action": "create",
            "name": "archive",
            "endpoint": "http://127.0.0.1:9/xapi",
            "auth": "basic",
            "username": "key-1",
            "secret": "the-destination-secret",
            "version": "2.0.0",
        },
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "Destination archive added" in text and "the-destination-secret" not in text
    [destination] = org.rows(Destination, Destination.store_id == org.store_id)
    assert destination.secret_sealed.startswith("v1.")
    assert "the-destination-secret" not in destination.secret_sealed

    added = org.post(
        "/admin/forwarding",
        {
            "action": "add_rule",
            "destination_id": destination.id,
            "verb": "http://adlnet.gov/expapi/verbs/completed",
            "actor_domain": "acme.test",
        },
    )
    assert "verb = http://adlnet.gov/expapi/verbs/completed and actor @acme.test" in (
        added.get_data(as_text=True)
    )
    bad = org.post(
        "/admin/forwarding",
        {"action": "add_rule", "destination_id": destination.id, "verb": "completed"},
    )
    assert bad.status_code == 400 and "verb: must be an IRI" in bad.get_data(as_text=True)
    assert len(org.rows(Rule, Rule.destination_id == destination.id)) == 1

    org.post("/admin/forwarding", {"action": "pause", "destination_id": destination.id})
    assert org.rows(Destination, Destination.id == destination.id)[0].state == "paused"
    resumed = org.post("/admin/forwarding", {"action": "resume", "destination_id": destination.id})
    assert "archive resumed" in resumed.get_data(as_text=True)
    assert org.rows(Destination, Destination.id == destination.id)[0].state == "active"

    late = org.post(
        "/admin/forwarding",
        {"action": "replay", "destination_id": destination.id, "since": "yesterday"},
    )
    assert late.status_code == 400 and "since: must be a date" in late.get_data(as_text=True)
    replay = org.post(
        "/admin/forwarding",
        {"action": "replay", "destination_id": destination.id, "since": "2026-01-01"},
    )
    assert "replays the statements stored since 2026-01-01 00:00:00 UTC" in (
        replay.get_data(as_text=True)
    )
    duplicate = org.post(
        "/admin/forwarding",
        {
            "action": "create",
            "name": "archive",
            "endpoint": "http://127.0.0.1:9/xapi",
            "username": "k",
            "secret": "s",
        },
    )
    assert duplicate.status_code == 400
    assert "a destination called 'archive' already exists" in html.unescape(
        duplicate.get_data(as_text=True)
    )
    org.post("/admin/forwarding", {"action": "delete", "destination_id": destination.id})
    assert org.rows(Destination, Destination.store_id == org.store_id) == []
    assert org.actions() == [
        "forwarding_destination.created",
        "forwarding_rule.added",
        "forwarding_destination.paused",
        "forwarding_destination.resumed",
        "forwarding_destination.replayed",
        "forwarding_destination.deleted",
    ]


def test_a_destination_inside_the_network_is_refused_naming_the_field(org):
    org.app.extensions[EXTENSION] = ForwardingConfig()
    page = org.post(
        "/admin/forwarding",
        {
            "action": "create",
            "name": "inside",
            "endpoint": "http://10.0.0.5/xapi",
            "username": "k",
            "secret": "s",
        },
    )
    assert page.status_code == 400 and "endpoint:" in page.get_data(as_text=True)
    assert org.rows(Destination, Destination.store_id == org.store_id) == []


def test_the_webhook_secret_is_shown_once_and_the_test_button_sends_a_signed_event(org):
    receiver = Receiver()
    try:
        page = org.post(
            "/admin/webhooks",
            {"action": "create", "url": receiver.url, "events": ["review.submitted"]},
        )
        text = page.get_data(as_text=True)
        assert page.status_code == 200, text
        secret = text.split('<code id="webhook-secret">')[1].split("</code>")[0]
        assert secret.startswith("whsec_")
        assert secret not in org.client(org.admin).get("/admin/webhooks").get_data(as_text=True)
        [endpoint] = org.rows(WebhookEndpoint, WebhookEndpoint.store_id == org.store_id)
        assert endpoint.events == "review.submitted" and secret not in endpoint.secret_sealed

        tested = org.post("/admin/webhooks", {"action": "test", "endpoint_id": endpoint.id})
        text = tested.get_data(as_text=True)
        assert "Test event delivered" in text and "webhook.test" in text
        headers, body = receiver.received[0]
        assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"

        receiver.answers = [410]
        failed = org.post("/admin/webhooks", {"action": "test", "endpoint_id": endpoint.id})
        assert "Test event not delivered: the endpoint answered 410" in failed.get_data(
            as_text=True
        )
        org.post("/admin/webhooks", {"action": "disable", "endpoint_id": endpoint.id})
        assert not org.rows(WebhookEndpoint, WebhookEndpoint.id == endpoint.id)[0].active
        bad = org.post("/admin/webhooks", {"action": "create", "url": "ftp://x.example/"})
        assert bad.status_code == 400 and "url:" in bad.get_data(as_text=True)
        assert org.actions() == ["webhook_endpoint.created", "webhook_endpoint.disabled"]
    finally:
        receiver.close()
