"""Canvas's JSON configuration of an LTI 1.3 developer key ("Enter URL" / "Paste JSON").

Pure. Canvas reads this document once, when an administrator creates an LTI key with the
method "Enter URL" (``https://<learnloop>/lti/canvas.json``) or pastes it: the tool's URLs, the
LTI Advantage scopes it asks for, the privacy level (``public``: Canvas then sends the name and
email, which Learnloop needs to join a learner's statements to their LMS account) and the
placements. Canvas documents the fields in "LTI 1.3 Developer Key JSON configuration"
(developerdocs.instructure.com, ``lti_dev_key_config``); the test checks this document against
the schema written from that page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lti import ags, nrps
from lti import claims as c

PLATFORM = "canvas.instructure.com"

#: Where a Canvas course shows Learnloop, and the message each placement sends.
PLACEMENTS = (
    # A course's navigation: learners see their objectives, instructors the course's learners.
    ("course_navigation", c.RESOURCE_LINK_REQUEST, "Learnloop"),
    # Modules › Add item › External tool: place a learning activity or an objective template.
    ("link_selection", c.DEEP_LINKING_REQUEST, "Learnloop activity or objective"),
    # Assignments › Submission type "External tool": a graded activity or objective.
    ("assignment_selection", c.DEEP_LINKING_REQUEST, "Learnloop graded activity or objective"),
)


def configuration(base_url: str) -> dict[str, Any]:
    """The developer key's JSON configuration for a Learnloop served at ``base_url``."""
    base = base_url.rstrip("/")
    launch = base + "/lti/launch"
    return {
        "title": "Learnloop",
        "description": (
            "Learning records (xAPI) and objectives for performance reviews: launches, "
            "objective templates and graded activities placed with Deep Linking, grades and "
            "rosters with LTI Advantage."
        ),
        "oidc_initiation_url": base + "/lti/login",
        "target_link_uri": launch,
        "public_jwk_url": base + "/lti/jwks",
        "scopes": [*ags.SCOPES, nrps.SCOPE],
        "extensions": [
            {
                "platform": PLATFORM,
                "domain": urlsplit(base).netloc,
                "tool_id": "learnloop",
                "privacy_level": "public",
                "settings": {
                    "text": "Learnloop",
                    "placements": [
                        {
                            "placement": placement,
                            "message_type": message_type,
                            "target_link_uri": launch,
                            "text": text,
                            **(
                                {"selection_width": 800, "selection_height": 600}
                                if message_type == c.DEEP_LINKING_REQUEST
                                else {}
                            ),
                        }
                        for placement, message_type, text in PLACEMENTS
                    ],
                },
            }
        ],
        "custom_fields": {},
    }
