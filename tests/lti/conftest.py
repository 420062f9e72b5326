"""Fixtures of the LTI tests: the app with loopback http allowed, a platform key set server."""

import uuid
from dataclasses import dataclass

import pytest
import requests
from flask import Flask, jsonify
from sqlalchemy import select

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lrs.models import Store
from lti import registrations
from lti.models import Registration
from tests.conftest import XapiClient, make_credential
from tests.lti.harness import ACTIVITY, Harness
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User
from tests.lti.support import DEPLOYMENT, ISSUER, PlatformKeys, serve, serve_tool


@pytest.fixture(scope="module")
def app(backend):
    """The Learnloop app on both databases, allowed to call platforms on http://127.0.0.1."""
    upgrade_database(backend)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", "1")
        application = create_app({"database_url": backend, "public_url": "http://localhost"})
    yield application
    application.extensions["learnloop"].engine.dispose()


@pytest.fixture(scope="module")
def platform_keys():
    return PlatformKeys()


@pytest.fixture(scope="module")
def jwks_server(platform_keys):
    """The platform's key set on 127.0.0.1; ``state["fetches"]`` counts requests."""
    state = {"jwks": platform_keys.jwks(), "fetches": 0}
    jwks_app = Flask("platform-jwks")

    @jwks_app.get("/jwks")
    def jwks():
        state["fetches"] += 1
        return jsonify(state["jwks"])

    with serve(jwks_app) as base:
        state["url"] = base + "/jwks"
        yield state


@dataclass
class Platform:
    store_id: int
    client_id: str
    registration_id: int
    xapi: XapiClient
    key: str
    secret: str


def register_platform(app, key_set_url, *, issuer=ISSUER, deployments=(DEPLOYMENT,), **urls):
    """A fresh store with a credential and a registration of ``issuer`` with a new client id."""
    store, key, secret = make_credential(app)
    client_id = "client-" + uuid.uuid4().hex[:10]
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        store_id = session.scalar(select(Store.id).where(Store.name == store))
        registration = registrations.create_registration(
            session,
            store_id,
            registrations.RegistrationData(
                issuer=issuer,
                client_id=client_id,
                auth_login_url=urls.get("auth_login_url", issuer + "/mod/lti/auth.php"),
                auth_token_url=urls.get("auth_token_url", issuer + "/mod/lti/token.php"),
                key_set_url=key_set_url,
                deployment_ids=list(deployments),
            ),
        )
        registration_id = registration.id
    return Platform(store_id, client_id, registration_id, XapiClient(app, key, secret), key, secret)


@pytest.fixture
def platform(app, jwks_server):
    return register_platform(app, jwks_server["url"])


@pytest.fixture(scope="module")
def harness(app):
    """The tool and a platform that registered it, served on 127.0.0.1; one per test module."""
    lms = LmsPlatform(page_size=2)
    with serve_tool(app) as tool, serve(lms.app) as base:
        lms.start(base, tool)
        _, key, secret = make_credential(app)
        created = requests.post(
            tool + "/api/admin/lti/registrations",
            json=lms.registration_payload(),
            auth=(key, secret),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        for user in (
            User("u1", "Ann Learner", "ann@example.com", [LEARNER]),
            User("u2", "Ian Instructor", "ian@example.com", [INSTRUCTOR]),
            User("u3", "Bo Learner", "bo@example.com", [LEARNER]),
            User("u4", "Cy Learner", "cy@example.com", [LEARNER]),
            User("u5", "Tia Assistant", "tia@example.com", [LEARNER, INSTRUCTOR + "#x"]),
        ):
            lms.add_user(user)
        xapi = XapiClient(app, key, secret)
        xapi.post(
            "/statements",
            json={
                "actor": {"mbox": "mailto:someone@example.com"},
                "verb": {"id": v.EXPERIENCED},
                "object": {
                    "id": ACTIVITY,
                    "definition": {"name": {"en-US": "Threat modelling"}},
                },
            },
        )
        with read_transaction(app.extensions["learnloop"].sessions) as session:
            store_id = session.scalar(
                select(Registration.store_id).where(Registration.client_id == lms.client_id)
            )
        yield Harness(app, lms, tool, xapi, store_id)
