"""The set-up guides of docs/lms/: one per LMS, complete, linked, agreeing with the READMEs.

An LMS administrator follows a guide without guessing: each names the three tool URLs, the
grade and roster services, the sharing of name and email, the connection check and what a
teacher does; the READMEs link them and state one default for ``LEARNLOOP_PUBLIC_URL``.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[2]
GUIDES = ("moodle", "canvas", "blackboard", "brightspace", "sakai")


@pytest.mark.parametrize("lms", GUIDES)
def test_each_guide_gives_every_url_service_setting_and_the_teachers_steps(lms):
    guide = (ROOT / "docs" / "lms" / f"{lms}.md").read_text()
    for url in ("<learnloop>/lti/launch", "<learnloop>/lti/login", "<learnloop>/lti/jwks"):
        assert url in guide
    words = guide.lower()
    for needed in ("grade", "roster", "email", "name", "deployment", "client id", "issuer"):
        assert needed in words, needed
    assert "Connection check" in guide and "What a teacher does" in guide
    assert "Test the grade service" in guide and "Test the roster service" in guide


def test_the_moodle_guide_has_the_steps_moodle_admins_missed():
    guide = (ROOT / "docs" / "lms" / "moodle.md").read_text()
    for step in (
        "Site administration › Plugins › Activity modules › External tool › Manage tools",
        "Add LTI Advantage",
        "Activate",
        "Show in activity chooser and as a preconfigured tool",
        "View configuration details",
        "IMS LTI Assignment and Grade Services",
        "IMS LTI Names and Role Provisioning",
        "Share launcher's email with tool",
        "<moodle>/mod/lti/token.php",
    ):
        assert step in guide, step


def test_the_canvas_guide_uses_the_json_configuration():
    guide = (ROOT / "docs" / "lms" / "canvas.md").read_text()
    assert "<learnloop>/lti/canvas.json" in guide and "Enter URL" in guide


def test_the_readmes_link_the_guides_and_agree_on_the_public_url():
    readme = (ROOT / "README.md").read_text()
    lti_readme = (ROOT / "lti" / "README.md").read_text()
    for lms in GUIDES:
        assert f"docs/lms/{lms}.md" in readme and f"docs/lms/{lms}.md" in lti_readme
        assert f"[{lms}" in (ROOT / "docs" / "lms" / "README.md").read_text().lower()

    def default(text):
        row = re.search(r"^\| `LEARNLOOP_PUBLIC_URL` \| ([^|]+) \|", text, re.M)
        return row.group(1).strip()

    assert default(readme) == default(lti_readme)
    assert default(readme).startswith("`http://localhost:8080`")
