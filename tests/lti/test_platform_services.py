"""Calling a real platform's services: the access token, renewed once, and refusals said plainly.

Runs on SQLite and PostgreSQL.
"""

import pytest

from lrs.db import write_transaction
from lti import ags, grades
from lti.errors import PlatformServiceError
from tests.lti.harness import placed_link


def test_a_rejected_token_is_renewed_once(harness):
    link_pk = placed_link(harness)
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        harness.runtime.tokens.put(
            link.registration_id, frozenset({ags.SCOPE_SCORE}), "revoked-token", 3600
        )
        before = len(harness.lms.token_requests)
        result = grades.post_score(
            session, link, "u1", 3, 10, "Completed", "FullyGraded", runtime=harness.runtime
        )
    assert result["status"] == 204
    assert len(harness.lms.token_requests) == before + 1


def test_a_platform_that_refuses_the_token_request_is_a_clear_error(harness):
    link_pk = placed_link(harness)
    registration = harness.lms.config.get_registration()
    saved = registration.get_tool_key_set()
    registration.set_tool_key_set({"keys": []})  # the platform cannot verify our assertion
    try:
        with write_transaction(harness.sessions) as session:
            link = grades.resource_link(session, harness.store_id, link_pk)
            harness.runtime.tokens.drop(
                link.registration_id, frozenset({ags.SCOPE_RESULT_READONLY})
            )
            with pytest.raises(PlatformServiceError) as raised:
                grades.get_results(session, link, runtime=harness.runtime)
    finally:
        registration.set_tool_key_set(saved)
    assert raised.value.status == 502 and raised.value.upstream_status >= 400
    assert "/lti/jwks" in raised.value.message
    assert "(HTTP 401, OAuth error invalid_client)" in raised.value.message
    assert harness.lms.client_id in raised.value.message
