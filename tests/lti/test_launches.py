"""Launches from a real platform: OIDC login, the launch, the learner's page after it.

The tool and the ``lti1p3platform``-based LMS run as HTTP servers on 127.0.0.1 (``harness``).
Runs on SQLite and PostgreSQL.
"""

import json
import re

import requests

from lrs import vocabulary as v
from lrs.db import read_transaction
from lrs.people import services as people
from lti import statements as st


def test_a_learner_launch_from_the_platform_records_learning(harness):
    _, page, _ = harness.launch("u1")
    assert page.status_code == 200, page.text
    assert "Welcome" in page.text and "Recent learning" in page.text
    assert "frame-ancestors " + harness.lms.base in page.headers["Content-Security-Policy"]
    statements = harness.xapi.get(
        "/statements",
        query_string={"agent": json.dumps(st.lms_agent(harness.lms.base, "u1"))},
    ).get_json()["statements"]
    assert statements[0]["verb"]["id"] == v.LAUNCHED
    assert statements[0]["actor"]["name"] == "Ann Learner"
    assert statements[0]["context"]["platform"] == "Test LMS"
    assert "launched" in page.text  # the learner sees the launch in their recent learning
    with read_transaction(harness.sessions) as session:
        person = people.find_person(session, harness.store_id, st.email_agent("ann@example.com"))
        assert person is not None
        assert (
            person.id
            == people.find_person(
                session, harness.store_id, st.lms_agent(harness.lms.base, "u1")
            ).id
        )


def test_resubmitting_the_platform_form_is_refused(harness):
    session, first, fields = harness.launch("u1")
    assert first.status_code == 200
    again = session.post(harness.tool + "/lti/launch", data=fields, timeout=10)
    assert again.status_code == 401 and 'data-code="state_reused"' in again.text


def test_after_a_launch_the_learner_opens_their_record_without_a_cookie(harness):
    """Sign-in through an LTI launch: the pages work inside the LMS frame with the launch token."""
    _, page, _ = harness.launch("u1")
    link = re.search(r'href="([^"]*/people/\d+\?lt=[^"]+)"', page.text)
    assert link, "the landing page links to the learner's full record"
    url = harness.tool + link.group(1).replace("&amp;", "&")
    record = requests.get(url, timeout=10)  # a fresh client: no cookie at all
    assert record.status_code == 200, record.text
    assert "Weekly activity by source" in record.text
    policy = record.headers["Content-Security-Policy"]
    assert "frame-ancestors " + harness.lms.base in policy  # the LMS may frame it, nobody else
    chart = re.search(r'data-src="([^"]+)"', record.text).group(1).replace("&amp;", "&")
    data = requests.get(harness.tool + chart, timeout=10)
    assert data.status_code == 200 and "weeks" in data.json()
    forged = requests.get(url.split("?lt=")[0] + "?lt=forged", timeout=10)
    assert forged.status_code in (400, 401, 403)
