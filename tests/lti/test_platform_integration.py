"""The running tool launched by a third-party platform implementation (``lti1p3platform``).

Both run as real HTTP servers on 127.0.0.1; a requests session plays the browser. Covers OIDC
login -> launch -> landing page, Deep Linking (the platform validates our signed response), AGS
line items, scores and results, and NRPS rosters with paging, ``rlid`` and ``differences``.
Runs on SQLite and PostgreSQL.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lti import ags, grades, rosters
from lti import statements as st
from lti.errors import PlatformServiceError, ServiceNotGranted
from lti.models import Context, Registration, ResourceLink
from tests.conftest import XapiClient, make_credential
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import browser, serve, serve_tool
from tests.support.worker import drain

ACTIVITY = "https://learn.example.com/courses/threat-modelling"


@dataclass
class Harness:
    app: object
    lms: LmsPlatform
    tool: str
    xapi: XapiClient
    store_id: int

    @property
    def runtime(self):
        return self.app.extensions["lti"]

    @property
    def sessions(self):
        return self.app.extensions["learnloop"].sessions

    def launch(self, user, kind="resource", link="rl-1"):
        """Click the tool in the LMS: login, authentication, form_post launch."""
        session = browser()
        page = session.get(self.lms.launch_url(user, kind, link), timeout=10)
        assert page.status_code == 200, page.text
        action, fields = form_of(page.text)
        assert action == self.tool + "/lti/launch"
        return session, session.post(action, data=fields, timeout=10), fields


@pytest.fixture(scope="module")
def harness(app):
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
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
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


def place(harness, graded=True, score_maximum=10):
    """The instructor places ACTIVITY with Deep Linking; returns the platform's new link id."""
    session, page, _ = harness.launch("u2", kind="deeplink")
    assert page.status_code == 200, page.text
    assert "Threat modelling" in page.text  # the store's named activity is offered
    action, fields = form_of(page.text, "/lti/deep-link")
    fields["choice"] = f"activity:{ACTIVITY}"
    if graded:
        fields["graded"] = "on"
        fields["score_maximum"] = str(score_maximum)
    returned = session.post(harness.tool + action, data=fields, timeout=10)
    assert returned.status_code == 200, returned.text
    assert "form-action 'self' " + harness.lms.base in returned.headers["Content-Security-Policy"]
    action, fields = form_of(returned.text, "/dl-return")
    assert action == harness.lms.base + "/dl-return"
    accepted = session.post(action, data=fields, timeout=10)
    assert accepted.status_code == 200, accepted.text
    return max(harness.lms.links, key=lambda k: int(k.split("-")[1]))


def test_a_learner_launch_from_the_platform_records_learning(harness):
    _, page, _ = harness.launch("u1")
    assert page.status_code == 200, page.text
    assert "Welcome" in page.text and "Recent learning" in page.text
    assert "frame-ancestors " + harness.lms.base in page.headers["Content-Security-Policy"]
    statements = harness.xapi.get(
        "/statements",
        query_string={"agent": json.dumps(st.lms_agent(harness.lms.base, "u1"))},
    ).get_json()["statements"]
    assert statements[0]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
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


def test_deep_linking_returns_a_signed_response_the_platform_accepts(harness):
    link_id = place(harness, graded=True, score_maximum=10)
    [item] = harness.lms.deep_link_items
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == harness.tool + "/lti/launch"
    assert item["custom"] == {st.CUSTOM_ACTIVITY: ACTIVITY}
    assert item["lineItem"] == {
        "scoreMaximum": 10.0,
        "label": "Threat modelling",
        "resourceId": ACTIVITY,
        "tag": "learnloop:activity",
    }
    # The placed link launches with its custom parameter and its coupled line item.
    _, page, _ = harness.launch("u1", link=link_id)
    assert page.status_code == 200 and ACTIVITY in page.text
    with read_transaction(harness.sessions) as session:
        link = session.scalar(
            select(ResourceLink).where(
                ResourceLink.store_id == harness.store_id,
                ResourceLink.resource_link_id == link_id,
            )
        )
        assert link.placed_activity == ACTIVITY
        assert link.lineitem_url.endswith("/lineitem?type_id=1")


def test_an_ungraded_placement_has_no_line_item(harness):
    place(harness, graded=False)
    assert "lineItem" not in harness.lms.deep_link_items[0]


def _template(harness, title="Ship a threat model"):
    """An objective template of the harness store: experience ACTIVITY once."""
    from objectives import services as objectives
    from objectives.accounts import Viewer
    from schemas.objectives import TemplateSchema

    admin = Viewer(0, harness.store_id, None, True)
    with write_transaction(harness.sessions) as session:
        template = objectives.create_template(
            session,
            admin,
            TemplateSchema().load(
                {
                    "title": title,
                    "criteria": [
                        {
                            "verbs": ["http://adlnet.gov/expapi/verbs/experienced"],
                            "activity_ids": [ACTIVITY],
                        }
                    ],
                }
            ),
        )
        return template.id


def _place_template(harness, template_id, graded=True):
    session, page, _ = harness.launch("u2", kind="deeplink")
    assert "Ship a threat model" in page.text  # the store's templates are offered
    action, fields = form_of(page.text, "/lti/deep-link")
    fields["choice"] = f"objective-template:{template_id}"
    if graded:
        fields["graded"] = "on"
        fields["score_maximum"] = "1"
    returned = session.post(harness.tool + action, data=fields, timeout=10)
    assert returned.status_code == 200, returned.text
    action, fields = form_of(returned.text, "/dl-return")
    assert session.post(action, data=fields, timeout=10).status_code == 200
    return max(harness.lms.links, key=lambda k: int(k.split("-")[1]))


def test_objective_templates_plug_into_deep_linking(harness):
    template_id = _template(harness)
    _place_template(harness, template_id, graded=False)
    assert harness.lms.deep_link_items[-1]["custom"] == {
        st.CUSTOM_OBJECTIVE_TEMPLATE: str(template_id)
    }


def test_a_met_objective_from_a_placed_template_reaches_the_gradebook(harness):
    """Objective met → satisfied statement → score in the LMS column of the placed template."""
    import datetime as dt_

    from objectives import accounts
    from objectives.models import Review, ReviewCycle

    template_id = _template(harness)
    link_id = _place_template(harness, template_id)
    harness.launch("u1", link=link_id)  # Ann launches: her LMS account joins her person
    with write_transaction(harness.sessions) as session:
        ann = people.find_person(session, harness.store_id, {"mbox": "mailto:ann@example.com"})
        today = dt_.date.today()
        cycle = ReviewCycle(
            store_id=harness.store_id,
            name="now",
            starts_on=today.replace(day=1),
            ends_on=today + dt_.timedelta(days=30),
        )
        session.add(cycle)
        session.flush()
        review = Review(store_id=harness.store_id, cycle_id=cycle.id, person_id=ann.id)
        session.add(review)
        session.flush()
        admin = accounts.create_account(
            session, harness.store_id, f"root{review.id}@example.com", None, is_admin=True
        )
        token = accounts.issue_token(session, admin)
        from objectives import services as objectives

        objective = objectives.attach_objective(
            session, accounts.viewer_of(admin), review.id, {"template_id": template_id}
        )
        objective_id = objective.id
    harness.xapi.post(
        "/statements",
        json={
            "actor": {"mbox": "mailto:ann@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": ACTIVITY},
        },
    )
    before = len(harness.lms.scores)
    drain(harness.app)  # the worker beside the server; nobody reads progress
    sent = harness.lms.scores[before:]
    assert [(s["userId"], s["scoreGiven"], s["activityProgress"]) for s in sent] == [
        ("u1", 1.0, "Completed")
    ]
    again = harness.app.test_client().get(
        f"/api/objectives/{objective_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 200 and again.get_json()["met"] is True
    drain(harness.app)
    assert len(harness.lms.scores) == before + 1  # once


def test_learners_cannot_place_content(harness):
    session, page, _ = harness.launch("u1", kind="deeplink")
    assert page.status_code == 200  # the page renders, the placement is refused
    action, fields = form_of(page.text, "/lti/deep-link")
    fields["choice"] = f"activity:{ACTIVITY}"
    refused = session.post(harness.tool + action, data=fields, timeout=10)
    assert refused.status_code == 403 and 'data-code="not_allowed"' in refused.text


def _placed_link(harness):
    link_id = place(harness, graded=True, score_maximum=10)
    harness.launch("u1", link=link_id)
    with read_transaction(harness.sessions) as session:
        return session.scalar(
            select(ResourceLink.id).where(
                ResourceLink.store_id == harness.store_id,
                ResourceLink.resource_link_id == link_id,
            )
        )


def test_scores_reach_the_gradebook_with_rising_timestamps_and_one_token(harness):
    link_pk = _placed_link(harness)
    harness.runtime.tokens = type(harness.runtime.tokens)()  # earlier tests may have cached one
    before_tokens = len(harness.lms.token_requests)
    before_scores = len(harness.lms.scores)
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        first = grades.post_score(
            session, link, "u1", 6, 10, "Submitted", "FullyGraded", "first try",
            runtime=harness.runtime,
        )  # fmt: skip
        second = grades.post_score(
            session, link, "u1", 9, 10, "Completed", "FullyGraded", "second try",
            runtime=harness.runtime,
        )  # fmt: skip
    sent = harness.lms.scores[before_scores:]
    assert [s["scoreGiven"] for s in sent] == [6, 9]
    assert sent[0]["timestamp"] < sent[1]["timestamp"]
    assert first["status"] == second["status"] == 204
    for score in sent:
        assert dt.datetime.fromisoformat(score["timestamp"]).tzinfo is not None
        assert score["userId"] == "u1" and score["scoreMaximum"] == 10
    score_tokens = [
        t for t in harness.lms.token_requests[before_tokens:] if t["scope"].endswith("/score")
    ]
    assert len(score_tokens) == 1  # cached per (registration, scope set)

    with read_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        results = grades.get_results(session, link, runtime=harness.runtime)
        mine = grades.get_results(session, link, user_sub="u1", runtime=harness.runtime)
    assert [(r["userId"], r["resultScore"]) for r in results] == [("u1", 9)]
    assert mine == results


def test_line_items_are_found_across_pages_and_created_when_missing(harness):
    link_pk = _placed_link(harness)
    for n in range(5):
        harness.lms.add_line_item(f"Objective {n}", f"objective:{n}", tag="learnloop:objective")
    with write_transaction(harness.sessions) as session:
        link = grades.resource_link(session, harness.store_id, link_pk)
        tagged = grades.line_items(
            session, link, tag="learnloop:objective", runtime=harness.runtime
        )
        assert len(tagged) == 5  # three pages of two: rel="next" was followed
        count = len(harness.lms.line_items)
        found = grades.find_or_create_line_item(
            session, link, label="Objective 4", score_maximum=100,
            resource_id="objective:4", tag="learnloop:objective", runtime=harness.runtime,
        )  # fmt: skip
        assert found["resourceId"] == "objective:4" and len(harness.lms.line_items) == count
        created = grades.find_or_create_line_item(
            session, link, label="Objective 99", score_maximum=50,
            resource_id="objective:99", tag="learnloop:objective", runtime=harness.runtime,
        )  # fmt: skip
        assert len(harness.lms.line_items) == count + 1
        assert created["resourceLinkId"] == link.resource_link_id
        result = grades.post_score(
            session, link, "u1", 50, 50, "Completed", "FullyGraded",
            line_item_url=created["id"], runtime=harness.runtime,
        )  # fmt: skip
    assert harness.lms.scores[-1]["scoreGiven"] == 50 and result["status"] == 204


def test_the_roster_becomes_people_and_follows_differences(harness):
    session, page, _ = harness.launch("u2")
    assert "Load the roster from the LMS" in page.text
    action, fields = form_of(page.text, "/lti/roster/sync")
    loaded = session.post(harness.tool + action, data=fields, timeout=10)
    assert loaded.status_code == 200, loaded.text
    assert "Roster loaded: 5 members" in loaded.text
    for name in ("Ann Learner", "Bo Learner", "Cy Learner", "Ian Instructor"):
        assert name in loaded.text
    with read_transaction(harness.sessions) as db:
        bo = people.find_person(db, harness.store_id, st.lms_agent(harness.lms.base, "u3"))
        assert bo is not None and bo.name == "Bo Learner"
        assert st.email_agent("bo@example.com")["mbox"] in [
            i.get("mbox") for i in people.identities(db, harness.store_id, bo.id)
        ]
        context = db.scalar(
            select(Context).where(
                Context.store_id == harness.store_id, Context.context_id == "course-1"
            )
        )
        assert context.differences_url and "since=" in context.differences_url

    harness.lms.remove_member("u4")
    token = re.search(r'name="lt" value="([^"]+)"', loaded.text).group(1)
    again = session.post(harness.tool + action, data={"lt": token}, timeout=10)
    assert "Roster loaded: 1 members changed" in again.text
    assert "Cy Learner" not in again.text and "Bo Learner" in again.text
    harness.lms.users["u4"].status = "Active"


def test_a_resource_link_scoped_roster(harness):
    harness.launch("u1")
    with write_transaction(harness.sessions) as session:
        context = session.scalar(
            select(Context).where(
                Context.store_id == harness.store_id, Context.context_id == "course-1"
            )
        )
        fetched = rosters.fetch_roster(
            session, context, resource_link_id="rl-1", runtime=harness.runtime
        )
    assert "u3" not in {m.user_id for m in fetched.members}
    assert fetched.pages >= 2


def test_only_instructors_can_load_the_roster(harness):
    session, page, _ = harness.launch("u1")
    token = re.search(r"lt=([^\"&]+)", page.text).group(1)
    refused = session.post(harness.tool + "/lti/roster/sync", data={"lt": token}, timeout=10)
    assert refused.status_code == 403


def test_a_rejected_token_is_renewed_once(harness):
    link_pk = _placed_link(harness)
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
    link_pk = _placed_link(harness)
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


def test_a_score_without_the_score_scope_or_a_line_item_is_refused_before_any_call(harness):
    harness.launch("u1")  # rl-1 has no coupled line item
    with write_transaction(harness.sessions) as session:
        link = session.scalar(
            select(ResourceLink).where(
                ResourceLink.store_id == harness.store_id, ResourceLink.resource_link_id == "rl-1"
            )
        )
        before = len(harness.lms.scores)
        with pytest.raises(ServiceNotGranted):
            grades.post_score(session, link, "u1", 1, 2, runtime=harness.runtime)
        link.ags_scopes = ""
        with pytest.raises(ServiceNotGranted):
            grades.post_score(
                session, link, "u1", 1, 2, line_item_url=harness.lms.base + "/x",
                runtime=harness.runtime,
            )  # fmt: skip
    assert len(harness.lms.scores) == before


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
