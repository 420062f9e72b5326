"""A launch as an xAPI statement (cmi5-aligned ``launched``), and the ids it derives.

Pure. Every id is derived, never random, so the same launch always maps to the same statement:

* the statement id is ``uuid5`` of the issuer and the launch's nonce; the nonce is single-use,
  so a replayed or resubmitted launch cannot store a second statement (an identical resend is a
  no-op in the write path);
* ``context.registration`` is ``uuid5`` of (issuer, deployment, course, user): one registration
  per learner and course enrolment, the meaning cmi5 gives it, so "everything Ann did in this
  course" is one registration query across launches. Each launch (one cmi5 session) gets its own
  ``sessionid`` extension, derived from the nonce;
* activity ids live under the platform's issuer URL, which is where the resource link and the
  course live, and which does not change when Learnloop moves to another host.

``describe_statement`` and ``display`` show stored statements on the learner's page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

from lrs import vocabulary as v
from lti import claims as c

NAMESPACE = uuid.UUID("5b0f6d2e-3c51-5a8e-9f6e-6c7c2d1e4a10")
LAUNCHED = {"id": v.LAUNCHED, "display": {"en-US": v.name_of(v.LAUNCHED)}}
CMI5_SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
LINK_TYPE = v.LINK
COURSE_TYPE = v.COURSE
PLATFORM_TYPE = v.LMS
#: Custom parameters of a placement (set by our Deep Linking response).
CUSTOM_ACTIVITY = "learnloop_activity"
CUSTOM_OBJECTIVE_TEMPLATE = "learnloop_objective_template"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\n".join(parts)))


def _seg(value: str) -> str:
    return quote(value, safe="")


def lms_agent(issuer: str, sub: str, name: str | None = None) -> dict:
    """The LMS user as an xAPI account Agent: ``homePage`` is the issuer, ``name`` the ``sub``."""
    agent: dict = {"objectType": "Agent", "account": {"homePage": issuer, "name": sub}}
    if name:
        agent["name"] = name
    return agent


def email_agent(email: str) -> dict:
    return {"objectType": "Agent", "mbox": "mailto:" + email}


def resource_link_iri(issuer: str, deployment_id: str, resource_link_id: str) -> str:
    return (
        f"{issuer.rstrip('/')}/lti/deployment/{_seg(deployment_id)}"
        f"/resource-link/{_seg(resource_link_id)}"
    )


def context_iri(issuer: str, deployment_id: str, context_id: str) -> str:
    return f"{issuer.rstrip('/')}/lti/deployment/{_seg(deployment_id)}/context/{_seg(context_id)}"


def deep_linking_iri(issuer: str, deployment_id: str) -> str:
    return f"{issuer.rstrip('/')}/lti/deployment/{_seg(deployment_id)}/deep-linking"


def registration_uuid(issuer: str, deployment_id: str, scope_id: str, sub: str) -> str:
    """One registration per (platform, deployment, course or link, user)."""
    return _uuid("registration", issuer, deployment_id, scope_id, sub)


def launch_statement_id(issuer: str, nonce: str) -> str:
    return _uuid("launch", issuer, nonce)


def session_id(issuer: str, nonce: str) -> str:
    return _uuid("session", issuer, nonce)


def _name(text: str | None) -> dict | None:
    return {"und": text} if text else None


def _activity(iri: str, name: str | None, activity_type: str, description: str | None = None):
    definition: dict = {"type": activity_type}
    if name:
        definition["name"] = _name(name)
    if description:
        definition["description"] = _name(description)
    return {"objectType": "Activity", "id": iri, "definition": definition}


def platform_activity(msg: c.LaunchMessage) -> dict:
    platform = msg.tool_platform
    name = platform.get("name") if isinstance(platform.get("name"), str) else None
    return _activity(msg.issuer, name or "LTI platform", PLATFORM_TYPE)


def launch_statement(msg: c.LaunchMessage, placed_activity: str | None = None) -> dict:
    """The ``launched`` statement of a validated launch (resource link or deep linking)."""
    issuer, deployment = msg.issuer, msg.deployment_id
    sub = msg.sub or ""
    link = msg.resource_link
    if msg.message_type in (c.RESOURCE_LINK_REQUEST, c.SUBMISSION_REVIEW_REQUEST):
        title = link.get("title") if isinstance(link.get("title"), str) else None
        description = link.get("description") if isinstance(link.get("description"), str) else None
        rlid = msg.resource_link_id or ""
        obj = _activity(resource_link_iri(issuer, deployment, rlid), title, LINK_TYPE, description)
    else:
        obj = _activity(deep_linking_iri(issuer, deployment), "Content selection", LINK_TYPE)
    context_activities: dict = {"grouping": [platform_activity(msg)]}
    if msg.context_id:
        course = msg.context
        title = course.get("title") or course.get("label")
        context_activities["parent"] = [
            _activity(
                context_iri(issuer, deployment, msg.context_id),
                title if isinstance(title, str) else None,
                COURSE_TYPE,
            )
        ]
    if placed_activity:
        context_activities["other"] = [{"objectType": "Activity", "id": placed_activity}]
    scope_id = msg.context_id or msg.resource_link_id or "deep-linking"
    iat = float(msg.claims["iat"])
    timestamp = dt.datetime.fromtimestamp(iat, dt.UTC).isoformat(timespec="milliseconds")
    platform_name = msg.tool_platform.get("name")
    context: dict = {
        "registration": registration_uuid(issuer, deployment, scope_id, sub),
        "contextActivities": context_activities,
        "platform": platform_name if isinstance(platform_name, str) and platform_name else "LTI",
        "extensions": {
            CMI5_SESSION_ID: session_id(issuer, msg.nonce),
            c.MESSAGE_TYPE: msg.message_type,
            c.ROLES: msg.roles,
        },
    }
    return {
        "id": launch_statement_id(issuer, msg.nonce),
        "actor": lms_agent(issuer, sub, msg.name),
        "verb": LAUNCHED,
        "object": obj,
        "context": context,
        "timestamp": timestamp.replace("+00:00", "Z"),
    }


def describe_statement(statement: dict[str, Any]) -> dict[str, str]:
    """Verb, object name and time of a statement, for display."""
    verb = statement.get("verb", {})
    verb_name = display(verb.get("display")) or verb.get("id", "").rsplit("/", 1)[-1]
    obj = statement.get("object", {})
    name = display((obj.get("definition") or {}).get("name")) or obj.get("id", "")
    return {"verb": verb_name, "object": name, "when": statement.get("timestamp", "")[:16]}


#: The viewer's languages, best first (``de-DE``, ``de``), set by the pages for the request
#: being served; every name ``display`` picks follows them. Outside a page: English.
VIEWER_LANGUAGES: ContextVar[tuple[str, ...]] = ContextVar("viewer_languages", default=())


def display(language_map: Any, languages: tuple[str, ...] | None = None) -> str | None:
    """The text of an xAPI language map in the viewer's language, falling back sensibly.

    ``languages`` (default: ``VIEWER_LANGUAGES``) first, each by its exact tag and then by its
    primary language (``de`` finds ``de-AT``); then en-US, en, any en-*, und; else the first
    entry.
    """
    if not isinstance(language_map, dict) or not language_map:
        return None
    texts = {k.lower(): v for k, v in language_map.items() if isinstance(v, str)}
    wanted = VIEWER_LANGUAGES.get() if languages is None else languages
    for tag in (*wanted, "en-us", "en"):
        tag = tag.lower()
        if tag in texts:
            return texts[tag]
        primary = tag.split("-")[0]
        if primary in texts:
            return texts[primary]
        for key, value in texts.items():
            if key.split("-")[0] == primary:
                return value
    if "und" in texts:
        return texts["und"]
    value = next(iter(language_map.values()))
    return value if isinstance(value, str) else None
