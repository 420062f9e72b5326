"""What a statement counts as: the source of its learning fact (objectives/facts.py)."""

from lrs.vocabulary import COMPLETED
from lti import claims as c
from lti.statements import launch_statement
from objectives.facts import classify_source
from tests.lti.support import launch_claims


def content_statement(context: dict) -> dict:
    return {
        "actor": {"account": {"homePage": "https://platform.example.edu", "name": "7"}},
        "verb": {"id": COMPLETED},
        "object": {"id": "https://courses.example.com/secure-coding"},
        "result": {"score": {"scaled": 0.9}},
        "context": context,
    }


def test_course_content_in_its_launchs_context_is_lms_learning_whatever_the_platform_is_called():
    """Journey 3: content that gives its statements its launch's context, as cmi5 content does,
    counts as LMS learning on any registered platform, not only those with a known name."""
    launch = c.LaunchMessage(launch_claims(tool_platform={"name": "Campus Learning"}))
    context = launch_statement(launch)["context"]
    template = {k: context[k] for k in ("registration", "platform", "contextActivities")}
    assert classify_source(content_statement(template)) == "lms"
    assert classify_source(content_statement({"platform": "Campus Learning"})) == "xapi"
