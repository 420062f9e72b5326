"""LTI 1.3 claim names, message types and roles, and a typed view of a validated launch.

Pure: no Flask, no database, no network. Names follow the specs (LTI Core 1.3 §5, Deep Linking
2.0 §4.4, AGS 2.0 §3.1, NRPS 2.0 §3.6) so a reader who knows LTI finds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TOOL_PLATFORM = LTI + "tool_platform"
LIS = LTI + "lis"
FOR_USER = LTI + "for_user"

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = DL + "deep_linking_settings"
DL_CONTENT_ITEMS = DL + "content_items"
DL_DATA = DL + "data"
DL_MSG = DL + "msg"
DL_ERRORMSG = DL + "errormsg"

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_SERVICE = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

LTI_VERSION = "1.3.0"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
#: AGS 2.0 §7: an instructor opens a learner's grade in the LMS gradebook.
SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
MESSAGE_TYPES = frozenset({RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST, SUBMISSION_REVIEW_REQUEST})

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER = MEMBERSHIP + "Learner"
INSTRUCTOR = MEMBERSHIP + "Instructor"
CONTENT_DEVELOPER = MEMBERSHIP + "ContentDeveloper"
CONTEXT_ADMINISTRATOR = MEMBERSHIP + "Administrator"
MENTOR = MEMBERSHIP + "Mentor"
TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
SYSTEM_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
INSTITUTION_ADMINISTRATOR = (
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
)
INSTITUTION_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"

#: Roles that may see a course's learners and place content (Deep Linking).
TEACHING_ROLES = frozenset(
    {
        INSTRUCTOR,
        CONTENT_DEVELOPER,
        CONTEXT_ADMINISTRATOR,
        TEACHING_ASSISTANT,
        SYSTEM_ADMINISTRATOR,
        INSTITUTION_ADMINISTRATOR,
    }
)

#: The deprecated simple names of context roles (LTI 1.3 §A.2.2) and their LTI 1.1 URNs.
_SHORT_CONTEXT_ROLES = (
    "Administrator",
    "ContentDeveloper",
    "Instructor",
    "Learner",
    "Mentor",
    "Manager",
    "Member",
    "Officer",
)
_LTI11_PREFIXES = ("urn:lti:role:ims/lis/", "urn:lti:instrole:ims/lis/", "urn:lti:sysrole:ims/lis/")


def normalize_role(role: str) -> str:
    """The full LIS v2 URI of a role; short forms (``Learner``) and LTI 1.1 URNs are mapped.

    Unknown roles are kept as sent: the certification suite launches with them and a tool must
    not reject the launch.
    """
    role = role.strip()
    if role in _SHORT_CONTEXT_ROLES:
        return MEMBERSHIP + role
    for prefix in _LTI11_PREFIXES:
        if role.startswith(prefix):
            name = role[len(prefix) :]
            if "/" in name:  # urn:lti:role:ims/lis/Instructor/TeachingAssistant
                parent, sub = name.split("/", 1)
                return f"http://purl.imsglobal.org/vocab/lis/v2/membership/{parent}#{sub}"
            if prefix == "urn:lti:role:ims/lis/":
                return MEMBERSHIP + name
            kind = "institution" if "instrole" in prefix else "system"
            return f"http://purl.imsglobal.org/vocab/lis/v2/{kind}/person#{name}"
    return role


def is_teaching(roles: list[str]) -> bool:
    """Whether any of the (normalized) roles teaches or administers the context."""
    return any(r in TEACHING_ROLES or r.startswith(INSTRUCTOR + "#") for r in roles)


def _dict(claims: Mapping[str, Any], name: str) -> dict:
    value = claims.get(name)
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


@dataclass(frozen=True)
class LaunchMessage:
    """A validated id_token: the raw claims plus the properties the tool uses."""

    claims: dict[str, Any]

    @property
    def issuer(self) -> str:
        return self.claims["iss"]

    @property
    def nonce(self) -> str:
        return self.claims["nonce"]

    @property
    def message_type(self) -> str:
        return self.claims[MESSAGE_TYPE]

    @property
    def deployment_id(self) -> str:
        return self.claims[DEPLOYMENT_ID]

    @property
    def sub(self) -> str | None:
        return _str(self.claims.get("sub"))

    @property
    def name(self) -> str | None:
        name = _str(self.claims.get("name"))
        if name:
            return name
        parts = [_str(self.claims.get("given_name")), _str(self.claims.get("family_name"))]
        joined = " ".join(p for p in parts if p)
        return joined or None

    @property
    def email(self) -> str | None:
        email = _str(self.claims.get("email"))
        usable = email and "@" in email and " " not in email and len(email) <= 254
        return email if usable else None

    @property
    def roles(self) -> list[str]:
        roles = self.claims.get(ROLES) or []
        return [normalize_role(r) for r in roles if isinstance(r, str) and r.strip()]

    @property
    def is_teaching(self) -> bool:
        return is_teaching(self.roles)

    @property
    def resource_link(self) -> dict:
        return _dict(self.claims, RESOURCE_LINK)

    @property
    def resource_link_id(self) -> str | None:
        return _str(self.resource_link.get("id"))

    @property
    def context(self) -> dict:
        return _dict(self.claims, CONTEXT)

    @property
    def context_id(self) -> str | None:
        return _str(self.context.get("id"))

    @property
    def custom(self) -> dict[str, str]:
        return {k: str(v) for k, v in _dict(self.claims, CUSTOM).items()}

    @property
    def tool_platform(self) -> dict:
        return _dict(self.claims, TOOL_PLATFORM)

    @property
    def launch_presentation(self) -> dict:
        return _dict(self.claims, LAUNCH_PRESENTATION)

    @property
    def for_user(self) -> str | None:
        """The learner whose submission a submission review launch is about (``user_id``)."""
        return _str(_dict(self.claims, FOR_USER).get("user_id"))

    @property
    def ags(self) -> dict:
        return _dict(self.claims, AGS_ENDPOINT)

    @property
    def nrps(self) -> dict:
        return _dict(self.claims, NRPS_SERVICE)

    @property
    def deep_linking_settings(self) -> dict:
        return _dict(self.claims, DL_SETTINGS)

    @property
    def target_link_uri(self) -> str:
        return self.claims[TARGET_LINK_URI]
