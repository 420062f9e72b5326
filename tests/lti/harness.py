"""A tool launched by a third-party platform implementation (``lti1p3platform``), for tests.

Both run as real HTTP servers on 127.0.0.1; a requests session plays the browser. The
``harness`` fixture (``tests/lti/conftest.py``) gives each test module its own LMS, registration
and store; ``place`` and friends are what an instructor does there.
"""

from dataclasses import dataclass

from sqlalchemy import select

from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lti.models import ResourceLink
from tests.conftest import XapiClient
from tests.lti.platform import LmsPlatform, form_of
from tests.lti.support import browser

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


def make_template(harness, title="Ship a threat model"):
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
                            "verbs": [v.EXPERIENCED],
                            "activity_ids": [ACTIVITY],
                        }
                    ],
                }
            ),
        )
        return template.id


def place_template(harness, template_id, graded=True):
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


def placed_link(harness):
    link_id = place(harness, graded=True, score_maximum=10)
    harness.launch("u1", link=link_id)
    with read_transaction(harness.sessions) as session:
        return session.scalar(
            select(ResourceLink.id).where(
                ResourceLink.store_id == harness.store_id,
                ResourceLink.resource_link_id == link_id,
            )
        )
