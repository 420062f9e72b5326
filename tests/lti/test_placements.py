"""Deep Linking with a real platform: activities and objective templates placed in a course.

The platform validates our signed response. Runs on SQLite and PostgreSQL.
"""

from sqlalchemy import select

from lrs.db import read_transaction
from lti import statements as st
from lti.models import ResourceLink
from tests.lti.harness import ACTIVITY, make_template, place, place_template
from tests.lti.platform import form_of


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


def test_objective_templates_plug_into_deep_linking(harness):
    template_id = make_template(harness)
    place_template(harness, template_id, graded=False)
    assert harness.lms.deep_link_items[-1]["custom"] == {
        st.CUSTOM_OBJECTIVE_TEMPLATE: str(template_id)
    }


def test_learners_cannot_place_content(harness):
    session, page, _ = harness.launch("u1", kind="deeplink")
    assert page.status_code == 200  # the page renders, the placement is refused
    action, fields = form_of(page.text, "/lti/deep-link")
    fields["choice"] = f"activity:{ACTIVITY}"
    refused = session.post(harness.tool + action, data=fields, timeout=10)
    assert refused.status_code == 403 and 'data-code="not_allowed"' in refused.text
