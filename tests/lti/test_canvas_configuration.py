"""``/lti/canvas.json``: the JSON configuration a Canvas administrator gives a developer key.

Checked against Canvas's documented schema of an LTI 1.3 developer key configuration (the
"LTI 1.3 Developer Key JSON configuration" page of Canvas's developer documentation, and the
schema Canvas validates with, ``Schemas::Lti::ToolConfiguration``): the required fields, the
placement, message type and privacy level enumerations, and the LTI Advantage scopes Canvas
knows. Written here from that documentation, not from our code.
"""

import jsonschema_rs
import pytest

from lti.oidc import check_target_link_uri

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
CANVAS_SCOPES = [  # the LTI scopes a Canvas developer key can be given
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
    "https://canvas.instructure.com/lti/account_lookup/scope/show",
    "https://canvas.instructure.com/lti-ags/progress/scope/show",
    "https://canvas.instructure.com/lti/feature_flags/scope/show",
]
CANVAS_PLACEMENTS = [
    "account_navigation", "similarity_detection", "assignment_edit", "assignment_group_menu",
    "assignment_index_menu", "assignment_menu", "assignment_selection", "assignment_view",
    "collaboration", "conference_selection", "course_assignments_menu",
    "course_home_sub_navigation", "course_navigation", "course_settings_sub_navigation",
    "discussion_topic_menu", "discussion_topic_index_menu", "editor_button", "file_menu",
    "file_index_menu", "global_navigation", "homework_submission", "link_selection",
    "migration_selection", "module_group_menu", "module_index_menu", "module_menu",
    "post_grades", "quiz_index_menu", "quiz_menu", "resource_selection",
    "submission_type_selection", "student_context_card", "tool_configuration",
    "user_navigation", "wiki_index_menu", "wiki_page_menu",
]  # fmt: skip
URL = {"type": "string", "pattern": "^https?://"}
CANVAS_SCHEMA = {
    "type": "object",
    "required": ["title", "description", "target_link_uri", "oidc_initiation_url"],
    # a developer key needs the tool's public key, as a URL or inline
    "anyOf": [{"required": ["public_jwk_url"]}, {"required": ["public_jwk"]}],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "target_link_uri": URL,
        "oidc_initiation_url": URL,
        "public_jwk_url": URL,
        "public_jwk": {"type": "object"},
        "icon_url": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string", "enum": CANVAS_SCOPES}},
        "custom_fields": {"anyOf": [{"type": "string"}, {"type": "object"}]},
        "extensions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["platform", "settings"],
                "properties": {
                    "platform": {"type": "string"},
                    "domain": {"type": "string"},
                    "tool_id": {"type": "string"},
                    "privacy_level": {"enum": ["public", "email_only", "name_only", "anonymous"]},
                    "settings": {
                        "type": "object",
                        "required": ["placements"],
                        "properties": {
                            "text": {"type": "string"},
                            "icon_url": {"type": "string"},
                            "placements": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["placement"],
                                    "properties": {
                                        "placement": {"enum": CANVAS_PLACEMENTS},
                                        "message_type": {
                                            "enum": [
                                                "LtiResourceLinkRequest",
                                                "LtiDeepLinkingRequest",
                                            ]
                                        },
                                        "target_link_uri": URL,
                                        "text": {"type": "string"},
                                        "icon_url": {"type": "string"},
                                        "selection_width": {"type": "number"},
                                        "selection_height": {"type": "number"},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
PUBLIC = "https://learnloop.example.com"


@pytest.fixture
def configuration(app):
    runtime = app.extensions["lrs"]
    configured, runtime.public_url = runtime.public_url, PUBLIC
    try:
        answer = app.test_client().get("/lti/canvas.json", headers={"Host": "attacker.example"})
    finally:
        runtime.public_url = configured
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    return answer.get_json()


def test_the_configuration_is_valid_by_canvas_schema(configuration):
    errors = [
        e.message for e in jsonschema_rs.validator_for(CANVAS_SCHEMA).iter_errors(configuration)
    ]
    assert errors == []


def test_the_urls_come_from_the_public_url_never_the_request(configuration):
    assert configuration["oidc_initiation_url"] == PUBLIC + "/lti/login"
    assert configuration["target_link_uri"] == PUBLIC + "/lti/launch"
    assert configuration["public_jwk_url"] == PUBLIC + "/lti/jwks"
    [canvas] = configuration["extensions"]
    assert canvas["platform"] == "canvas.instructure.com"
    assert canvas["domain"] == "learnloop.example.com"
    for placement in canvas["settings"]["placements"]:
        assert placement["target_link_uri"] == PUBLIC + "/lti/launch"
        check_target_link_uri(placement["target_link_uri"], (PUBLIC,))  # our login accepts it


def test_grades_and_rosters_are_asked_for_and_names_shared(configuration):
    assert set(configuration["scopes"]) == set(CANVAS_SCOPES[:5])  # AGS and NRPS
    [canvas] = configuration["extensions"]
    assert canvas["privacy_level"] == "public"  # name and email: statements count


def test_the_placements_are_course_navigation_and_deep_linking_selections(configuration):
    [canvas] = configuration["extensions"]
    placements = {p["placement"]: p["message_type"] for p in canvas["settings"]["placements"]}
    assert placements == {
        "course_navigation": "LtiResourceLinkRequest",
        "link_selection": "LtiDeepLinkingRequest",
        "assignment_selection": "LtiDeepLinkingRequest",
    }


def test_the_schema_catches_what_canvas_refuses(configuration):
    """The schema is not vacuous: Canvas's refusals are refusals here too."""
    validator = jsonschema_rs.validator_for(CANVAS_SCHEMA)
    [canvas] = configuration["extensions"]
    for broken in (
        {k: v for k, v in configuration.items() if k != "oidc_initiation_url"},
        {k: v for k, v in configuration.items() if k != "public_jwk_url"},
        {**configuration, "extensions": [{**canvas, "privacy_level": "everything"}]},
        {
            **configuration,
            "extensions": [{**canvas, "settings": {"placements": [{"placement": "course_nav"}]}}],
        },
    ):
        assert not validator.is_valid(broken)
