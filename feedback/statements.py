"""The statements feedback writes (pure): after-action reviews and mentoring sessions.

They follow the feedback xAPI Profile (``connectors/profiles/feedback.jsonld``, served at
``/profiles/feedback``). Ids are deterministic (uuid5 of what they record), so a retried
transaction writes the same statements and the write path treats a resend as a no-op.
"""

from __future__ import annotations

import datetime as dt
import uuid

from lrs import vocabulary as v

NAMESPACE = uuid.UUID("5d0c1f7e-8a3b-4c2d-9e6f-1a2b3c4d5e60")
PROFILE_VERSION = f"{v.FEEDBACK}/v1"


def statement_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def aar_activity_id(base_url: str, aar_id: int) -> str:
    return f"{base_url.rstrip('/')}/after-action-reviews/{aar_id}"


def session_activity_id(base_url: str, session_id: int) -> str:
    return f"{base_url.rstrip('/')}/mentoring/sessions/{session_id}"


def _timestamp(at_ms: int) -> str:
    at = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _context(agents: list[dict] | None = None) -> dict:
    context: dict = {
        "contextActivities": {"category": [{"objectType": "Activity", "id": PROFILE_VERSION}]}
    }
    if agents:
        context["contextAgents"] = agents
    return context


def aar_statement(
    *, store_id: int, aar_id: int, actor: dict, verb: str, title: str, base_url: str, at_ms: int
) -> dict:
    """``actor`` wrote (``v.AUTHORED``) or took part in (``v.ATTENDED``) an after-action review."""
    return {
        "id": statement_id("aar", store_id, aar_id, verb, actor_key(actor)),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": v.name_of(verb)}},
        "object": {
            "objectType": "Activity",
            "id": aar_activity_id(base_url, aar_id),
            "definition": {
                "type": v.AFTER_ACTION_REVIEW,
                "name": {"en-US": f"After-action review: {title}"},
            },
        },
        "context": _context(),
        "timestamp": _timestamp(at_ms),
    }


def session_statements(
    *,
    store_id: int,
    session_id: int,
    mentor: dict,
    mentee: dict,
    topic: str,
    minutes: int,
    base_url: str,
    at_ms: int,
) -> list[dict]:
    """The mentor *mentored* and the mentee *attended* one confirmed session."""
    activity = {
        "objectType": "Activity",
        "id": session_activity_id(base_url, session_id),
        "definition": {
            "type": v.MENTORING_SESSION,
            "name": {"en-US": f"Mentoring session: {topic}"},
        },
    }
    result = {"duration": f"PT{minutes}M", "completion": True}

    def other(agent: dict, role: str) -> list[dict]:
        return [{"objectType": "contextAgent", "agent": agent, "relevantTypes": [role]}]

    return [
        {
            "id": statement_id("mentored", store_id, session_id),
            "actor": mentor,
            "verb": {"id": v.MENTORED, "display": {"en-US": "mentored"}},
            "object": activity,
            "result": result,
            "context": _context(other(mentee, v.ROLE_MENTEE)),
            "timestamp": _timestamp(at_ms),
        },
        {
            "id": statement_id("mentee", store_id, session_id),
            "actor": mentee,
            "verb": {"id": v.ATTENDED, "display": {"en-US": "attended"}},
            "object": activity,
            "result": result,
            "context": _context(other(mentor, v.ROLE_MENTOR)),
            "timestamp": _timestamp(at_ms),
        },
    ]


def actor_key(agent: dict) -> str:
    if "mbox" in agent:
        return agent["mbox"]
    account = agent.get("account") or {}
    return f"{account.get('homePage')}|{account.get('name')}"


def preferred_agent(agents: list[dict]) -> dict | None:
    """The most portable identity of a person (an mbox), as objectives' statements use."""
    return next((a for a in agents if "mbox" in a), agents[0] if agents else None)
