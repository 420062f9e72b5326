"""What a registration's latest launch carried: services, scopes, and the learner's name and email.

Every launch notes on its registration what it carried (``note_launch``): the message type, the
grade service (AGS) and its scopes, the roster service (NRPS), and whether the learner's name
and email came. A launch without name or email raises one warning for the admins
(``privacy_warning``), kept until an admin dismisses it or both come again; later nameless
launches do not raise it anew. Database rows only, no calls: ``lti.checks`` tests the services
live. Callers own the session and the transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from lrs import audit
from lti import claims as c
from lti import explain
from lti.models import Registration, utc


def note_launch(registration: Registration, msg: c.LaunchMessage, now_ms: int) -> None:
    """Remember what this launch carried; raise the privacy warning on the first without."""
    endpoint = msg.ags
    carried = {
        "message_type": msg.message_type,
        "ags_scopes": sorted(s for s in endpoint.get("scope", []) if isinstance(s, str)),
        "ags": bool(endpoint),
        "nrps": bool(msg.nrps.get("context_memberships_url")),
        "name": msg.name is not None,
        "email": msg.email is not None,
        "teaching": msg.is_teaching,
        "course": str(msg.context.get("title") or "")[:200],
    }
    registration.last_launch_ms = now_ms
    registration.last_launch = json.dumps(carried, sort_keys=True)
    if carried["name"] and carried["email"]:
        registration.privacy_warning_ms = None
        registration.privacy_dismissed_ms = None
    elif registration.privacy_warning_ms is None:
        registration.privacy_warning_ms = now_ms


def last_launch(registration: Registration) -> dict[str, Any] | None:
    """What the latest launch carried (``note_launch``), or None before the first launch."""
    return json.loads(registration.last_launch) if registration.last_launch else None


def privacy_warning(registration: Registration) -> str | None:
    """The warning admins see while launches lack the name or the email, until dismissed."""
    carried = last_launch(registration)
    if registration.privacy_warning_ms is None or registration.privacy_dismissed_ms is not None:
        return None
    missing = [what for what in ("name", "email") if carried and not carried.get(what)]
    missing = missing or ["name", "email"]
    harm = []
    if "name" in missing:
        harm.append("new learners become people without a name")
    if "email" in missing:
        harm.append("statements sent with their email do not count for them")
    return (
        f"launches from {registration.name or registration.issuer} do not share the learner's "
        f"{' and '.join(missing)} with Learnloop (first seen "
        f"{utc(registration.privacy_warning_ms)}): {' and '.join(harm)}. Ask your LMS "
        "administrator to share them (Moodle: the tool's Privacy settings 'Share launcher's "
        "name with tool' and 'Share launcher's email with tool' set to 'Always'; Canvas: "
        "privacy level 'public'; see docs/lms/)"
    )


def dismiss_privacy_warning(session: Session, registration: Registration, now_ms: int) -> None:
    """An administrator has read the privacy warning and accepts launches without name or email."""
    registration.privacy_dismissed_ms = now_ms
    audit.record(
        session,
        "lti.registration.privacy_warning_dismissed",
        store_id=registration.store_id,
        target=audit.Target("lti_registration", registration.id, registration.name),
    )


def services_view(registration: Registration) -> dict[str, Any] | None:
    """The latest launch's grants in words, for the connection page."""
    carried = last_launch(registration)
    if carried is None:
        return None
    scopes = carried.get("ags_scopes", [])
    return {
        "when": utc(registration.last_launch_ms),
        "message_type": carried.get("message_type", ""),
        "course": carried.get("course", ""),
        "who": "an instructor" if carried.get("teaching") else "a learner",
        "grade_service": bool(carried.get("ags")),
        "grade_scopes": [
            {"scope": s, "meaning": explain.SCOPE_MEANINGS.get(s, "")} for s in scopes
        ],
        "roster_service": bool(carried.get("nrps")),
        "name_shared": bool(carried.get("name")),
        "email_shared": bool(carried.get("email")),
        # Deep Linking launches never carry the grade service; only a resource link's can.
        "grades_apply": carried.get("message_type") == c.RESOURCE_LINK_REQUEST,
    }
