"""NRPS with a real platform: rosters with paging, ``rlid`` and ``differences``.

Runs on SQLite and PostgreSQL.
"""

import re

from sqlalchemy import select

from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lti import rosters
from lti import statements as st
from lti.models import Context
from tests.lti.platform import form_of


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
