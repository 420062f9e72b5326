"""LTI Dynamic Registration: an LMS administrator pastes our link, the platform is registered.

The platform is the lti1p3platform-based test LMS with Moodle's registration checks; after
registering, it launches the tool. Runs on SQLite and PostgreSQL.
"""

import re

import pytest
import requests
from sqlalchemy import select

from lrs.db import read_transaction
from lti import registrations
from lti.models import Registration
from tests.conftest import make_credential
from tests.lti.platform import LEARNER, LmsPlatform, User
from tests.lti.support import browser, serve, serve_tool


@pytest.fixture(scope="module")
def servers(app):
    lms = LmsPlatform()
    with serve_tool(app) as tool, serve(lms.app) as base:
        lms.start(base, tool)
        lms.add_user(User("u1", "Ann Learner", "ann@example.com", [LEARNER]))
        yield lms, tool


def invite(app, tool):
    _, key, secret = make_credential(app)
    response = requests.post(
        tool + "/api/admin/lti/invites", json={}, auth=(key, secret), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["registration_url"]


def open_from_the_lms(url, lms, **params):
    query = {
        "openid_configuration": lms.base + "/.well-known/openid-configuration",
        "registration_token": lms.registration_token,
        **params,
    }
    return browser().get(url, params={k: v for k, v in query.items() if v is not None}, timeout=10)


def test_dynamic_registration_registers_and_the_platform_can_launch(app, servers):
    lms, tool = servers
    url = invite(app, tool)
    page = open_from_the_lms(url, lms)
    assert page.status_code == 200, page.text
    assert '<script src="/lti/static/close.js"></script>' in page.text
    assert lms.client_id in page.text
    assert "frame-ancestors " + lms.base in page.headers["Content-Security-Policy"]
    [sent] = lms.dynamic_registrations
    assert sent["initiate_login_uri"] == tool + "/lti/login"
    assert sent["client_name"] == "Learnloop"
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        row = session.scalar(select(Registration).where(Registration.client_id == lms.client_id))
        assert row.source == "dynamic" and row.issuer == lms.base
        assert row.key_set_url == lms.base + "/jwks"
        assert registrations.deployment_ids(session, row.id) == ["1"]

    session = browser()
    form = session.get(lms.launch_url("u1"), timeout=10)
    action = re.search(r'action="([^"]+)"', form.text).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.text))
    assert session.post(action, data=fields, timeout=10).status_code == 200

    reused = open_from_the_lms(url, lms)
    assert reused.status_code == 403 and 'data-code="invite_invalid"' in reused.text


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"invite": "made-up"}, 403, "invite_invalid"),
        ({"invite": None}, 403, "invite_invalid"),
        ({"openid_configuration": None}, 400, "dynamic_registration_failed"),
        ({"openid_configuration": "http://lms.example/config"}, 400, "unsafe_url"),
        ({"registration_token": "wrong"}, 400, "dynamic_registration_failed"),
    ],
)
def test_a_failed_registration_is_a_4xx_page_and_keeps_the_invite(
    app, servers, change, status, code
):
    lms, tool = servers
    url = invite(app, tool)
    base, _, token = url.partition("?invite=")
    params = {"invite": token, **change}
    response = open_from_the_lms(base, lms, **params)
    assert response.status_code == status and f'data-code="{code}"' in response.text
    if "invite" not in change:  # the invite was not used up by the failure
        assert open_from_the_lms(url, lms).status_code != 403


def test_an_issuer_on_another_host_is_refused(app, servers):
    lms, tool = servers
    lms.issuer_override = "https://impostor.example"
    try:
        response = open_from_the_lms(invite(app, tool), lms)
    finally:
        lms.issuer_override = None
    assert response.status_code == 400
    assert 'data-code="dynamic_registration_failed"' in response.text
