"""When an LMS has not granted a service, every failure says so in the LMS's terms.

A platform of its own per test module (``tests/lti/platform.py``) whose administrator grants or
withholds the grade (AGS) and roster (NRPS) services and scopes, as Moodle's tool settings do:
launches then carry only what is granted and the token endpoint answers ``invalid_scope`` for
the rest. The messages name the service as the LMS's settings do, the scope, or the platform's
answer, and never a function of ours. Runs on SQLite and PostgreSQL.
"""

import ast
import pathlib
import re

import pytest
import requests
from sqlalchemy import select

from lrs.db import read_transaction, write_transaction
from lti import ags, grades, nrps, rosters
from lti.errors import PlatformServiceError, ServiceNotGranted
from lti.models import Context, ResourceLink
from tests.conftest import make_credential
from tests.lti.harness import ACTIVITY, Harness, place
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import serve, serve_tool

AGS_SERVICE = "'IMS LTI Assignment and Grade Services'"
NRPS_SERVICE = "'IMS LTI Names and Role Provisioning'"
EVERYTHING = {*ags.SCOPES, nrps.SCOPE}
#: Names of ours that are also the protocols' own words, which messages may use.
PROTOCOL_WORDS = {"access_token", "message_type", "target_link_uri"}


@pytest.fixture(scope="module")
def lms_harness(app):
    """A fresh LMS, registered in a fresh store; tests set ``lms.granted`` and restore it."""
    lms = LmsPlatform(page_size=10)
    with serve_tool(app) as tool, serve(lms.app) as base:
        lms.start(base, tool)
        store, key, secret = make_credential(app)
        created = requests.post(
            tool + "/api/admin/lti/registrations",
            json=lms.registration_payload(),
            auth=(key, secret),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        lms.add_user(User("u1", "Ann Learner", "ann@example.com", [LEARNER]))
        lms.add_user(User("u2", "Ian Instructor", "ian@example.com", [INSTRUCTOR]))
        from tests.conftest import XapiClient

        xapi = XapiClient(app, key, secret)
        xapi.post(
            "/statements",
            json={
                "actor": {"mbox": "mailto:someone@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Threat modelling"}}},
            },
        )
        with read_transaction(app.extensions["learnloop"].sessions) as session:
            from lti.models import Registration

            store_id = session.scalar(
                select(Registration.store_id).where(Registration.client_id == lms.client_id)
            )
        yield Harness(app, lms, tool, xapi, store_id)


@pytest.fixture
def harness(lms_harness):
    lms_harness.runtime.tokens = type(lms_harness.runtime.tokens)()  # no token from before
    yield lms_harness
    lms_harness.lms.granted = set(EVERYTHING)
    lms_harness.lms.refuse_scores.clear()


def _link(harness, resource_link_id):
    with read_transaction(harness.sessions) as session:
        return session.scalar(
            select(ResourceLink.id).where(
                ResourceLink.store_id == harness.store_id,
                ResourceLink.resource_link_id == resource_link_id,
            )
        )


def _score(harness, link_pk, **options):
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        return grades.post_score(
            session, link, "u1", 1, 1, "Completed", "FullyGraded", runtime=harness.runtime,
            **options,
        )  # fmt: skip


def test_a_grade_without_the_grade_service_names_the_service_to_enable(harness):
    link_id = place(harness, graded=True, score_maximum=1)
    harness.lms.granted = {nrps.SCOPE}  # the admin never ticked the grade service
    harness.launch("u1", link=link_id)
    before = len(harness.lms.scores)
    with pytest.raises(ServiceNotGranted) as refused:
        _score(harness, _link(harness, link_id))
    message = refused.value.message
    assert "has not granted the grade service to Learnloop" in message
    assert AGS_SERVICE in message and "find_or_create" not in message
    assert len(harness.lms.scores) == before  # nothing was sent


def test_a_grade_without_the_score_scope_names_the_scope(harness):
    link_id = place(harness, graded=True, score_maximum=1)
    harness.lms.granted = EVERYTHING - {ags.SCOPE_SCORE}
    harness.launch("u1", link=link_id)
    with pytest.raises(ServiceNotGranted) as refused:
        _score(harness, _link(harness, link_id))
    assert f"the scope {ags.SCOPE_SCORE} (send scores)" in refused.value.message
    assert AGS_SERVICE in refused.value.message


def test_a_placement_without_a_gradebook_column_says_to_make_it_graded(harness):
    harness.launch("u1", link="rl-1")  # granted, but the LMS has no column for this link
    with pytest.raises(ServiceNotGranted) as refused:
        _score(harness, _link(harness, "rl-1"))
    assert "no gradebook column for 'Welcome'" in refused.value.message
    assert "graded" in refused.value.message


def test_a_scope_taken_back_after_the_launch_gives_the_token_endpoint_answer(harness):
    link_id = place(harness, graded=True, score_maximum=1)
    harness.launch("u1", link=link_id)  # granted at launch...
    harness.lms.granted = {nrps.SCOPE}  # ...then switched off in the LMS
    with pytest.raises(PlatformServiceError) as refused:
        _score(harness, _link(harness, link_id))
    message = refused.value.message
    assert "HTTP 400, OAuth error invalid_scope" in message
    assert f"{ags.SCOPE_SCORE} (send scores)" in message and AGS_SERVICE in message


def test_a_score_service_that_answers_403_is_explained(harness):
    link_id = place(harness, graded=True, score_maximum=1)
    harness.launch("u1", link=link_id)
    harness.lms.refuse_scores["u1"] = 403
    with pytest.raises(PlatformServiceError) as refused:
        _score(harness, _link(harness, link_id))
    message = refused.value.message
    assert message.startswith("the LMS's score service answered HTTP 403 Forbidden")
    assert "does not let Learnloop send scores" in message and AGS_SERVICE in message


def test_results_without_the_results_scope_name_it(harness):
    link_id = place(harness, graded=True, score_maximum=1)
    harness.lms.granted = EVERYTHING - {ags.SCOPE_RESULT_READONLY}
    harness.launch("u1", link=link_id)
    with read_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, _link(harness, link_id))
        with pytest.raises(ServiceNotGranted, match=re.escape(ags.SCOPE_RESULT_READONLY)):
            grades.get_results(session, link, runtime=harness.runtime)


def test_the_instructor_page_says_why_there_is_no_roster_button(harness):
    harness.lms.granted = set(ags.SCOPES)
    _, page, _ = harness.launch("u2")
    assert page.status_code == 200
    assert "Load the roster from the LMS" not in page.text
    assert (
        "this LMS has not granted the roster service to Learnloop; ask your LMS administrator "
        "to enable &#39;IMS LTI Names and Role Provisioning&#39;"
    ) in page.text
    with read_transaction(harness.sessions) as session:
        context = session.scalar(select(Context).where(Context.store_id == harness.store_id))
        with pytest.raises(ServiceNotGranted, match=NRPS_SERVICE):
            rosters.fetch_roster(session, context, runtime=harness.runtime)

    harness.lms.granted = set(EVERYTHING)  # the administrator enables it: the button is back
    _, page, _ = harness.launch("u2")
    assert "Load the roster from the LMS" in page.text
    assert "has not granted the roster service" not in page.text


def test_a_roster_refused_by_the_token_endpoint_shows_the_answer_to_the_instructor(harness):
    session, page, _ = harness.launch("u2")
    action, fields = form_of(page.text, "/lti/roster/sync")
    harness.lms.granted = set(ags.SCOPES)  # switched off after the launch
    answer = session.post(harness.tool + action, data=fields, timeout=10)
    assert answer.status_code == 200
    assert "The roster could not be loaded" in answer.text
    assert "OAuth error invalid_scope" in answer.text and nrps.SCOPE in answer.text
    assert "(read the course roster)" in answer.text


def _functions_of(package: pathlib.Path) -> set[str]:
    names = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = node.name.lstrip("_")
                if "_" in name and name not in PROTOCOL_WORDS:
                    names.add(name)
    return names


def test_no_error_message_of_the_tool_names_one_of_its_functions():
    """Messages an LMS administrator reads speak of services, scopes and answers, not code."""
    package = pathlib.Path(__file__).parents[2] / "lti"
    functions = _functions_of(package)
    found = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Raise | ast.Return):
                continue
            for text in ast.walk(node):
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    words = set(re.findall(r"[a-z_]+", text.value))
                    found += [(path.name, w) for w in words & functions if " " in text.value]
    assert found == []
