"""Names and Role Provisioning Services 2.0: membership pages and members (NRPS 2.0 §2-3).

Pure. The HTTP calls are in ``lti.rosters``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lti.claims import normalize_role
from lti.errors import PlatformServiceError

SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
STATUSES = ("Active", "Inactive", "Deleted")


@dataclass(frozen=True)
class Member:
    """One member of a course as the platform reports it."""

    user_id: str
    roles: tuple[str, ...]
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    picture: str | None = None
    lis_person_sourcedid: str | None = None

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return joined or None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_member(raw: Any) -> Member | None:
    """A member, or None when the entry has no usable ``user_id`` (it is skipped, not fatal)."""
    if not isinstance(raw, dict):
        return None
    user_id = raw.get("user_id")
    if not isinstance(user_id, str | int) or str(user_id) == "" or len(str(user_id)) > 255:
        return None
    roles = raw.get("roles") if isinstance(raw.get("roles"), list) else []
    status = raw.get("status") if raw.get("status") in STATUSES else "Active"
    email = _text(raw.get("email"))
    if email and ("@" not in email or " " in email or len(email) > 254):
        email = None
    return Member(
        user_id=str(user_id),
        roles=tuple(normalize_role(r) for r in roles if isinstance(r, str) and r),
        status=status,
        name=_text(raw.get("name")),
        given_name=_text(raw.get("given_name")),
        family_name=_text(raw.get("family_name")),
        email=email,
        picture=_text(raw.get("picture")),
        lis_person_sourcedid=_text(raw.get("lis_person_sourcedid")),
    )


def parse_page(body: Any) -> tuple[dict[str, Any], list[Member]]:
    """The context and the members of one membership container page."""
    if not isinstance(body, dict) or not isinstance(body.get("members"), list):
        raise PlatformServiceError("the LMS's roster (names and roles) answer has no members array")
    context = body.get("context") if isinstance(body.get("context"), dict) else {}
    members = [m for m in (parse_member(raw) for raw in body["members"]) if m is not None]
    return context, members
