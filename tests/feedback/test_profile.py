"""The feedback profile's templates, read through pyld, and the statements that follow them."""

from pyld import jsonld

from connectors import profile as p
from tests.connectors.test_profile import OPTIONS


def feedback_templates() -> dict[str, dict]:
    expanded = jsonld.expand(p.profile_document("feedback"), OPTIONS)
    compacted = jsonld.compact(expanded, p.PROFILE_CONTEXT, OPTIONS)
    return {t["id"].rsplit("/", 1)[-1]: t for t in compacted["templates"]}


def test_the_profile_has_a_template_per_statement_feedback_writes():
    assert set(feedback_templates()) == {
        "aar-authored",
        "aar-attended",
        "mentored",
        "mentee-attended",
    }
