"""The statements recognition writes (pure): kudos received and badges earned.

Both follow the recognition xAPI Profile (``connectors/profiles/recognition.jsonld``, served at
``/profiles/recognition``). A kudos statement's actor is the receiver, so criteria over a
person's record count kudos received; its object is "kudos for <reason> from <giver>", one
activity per giver and reason, so a criterion counting distinct activities under
``<base>/recognition/kudos/<reason>/`` counts distinct colleagues ("kudos from 5 colleagues for
mentoring").
"""

from __future__ import annotations

import datetime as dt
import uuid

from lrs import vocabulary as v

NAMESPACE = uuid.UUID("0b9e3c41-2a55-4d1e-9b7a-6c3f5e2d1a90")
PROFILE_VERSION = f"{v.RECOGNITION}/v1"
#: Why kudos are given: the reason's words for people.
REASONS = {
    "help": "help",
    "mentoring": "mentoring",
    "code-review": "a code review",
    "talk": "a talk",
    "knowledge-base": "a knowledge-base article",
}


def kudos_statement_id(store_id: int, gift_id: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"kudos:{store_id}:{gift_id}"))


def award_statement_id(store_id: int, badge_id: int, person_id: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"badge:{store_id}:{badge_id}:{person_id}"))


def kudos_activity_prefix(base_url: str, reason: str | None = None) -> str:
    """The IRI prefix of kudos activities (of one reason): a criterion's ``activity_prefix``."""
    prefix = f"{base_url.rstrip('/')}/recognition/kudos/"
    return f"{prefix}{reason}/" if reason else prefix


def badge_activity_id(base_url: str, badge_id: int) -> str:
    return f"{base_url.rstrip('/')}/badges/{badge_id}"


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _category() -> list[dict]:
    return [{"objectType": "Activity", "id": PROFILE_VERSION}]


def kudos_statement(
    *,
    statement_id: str,
    receiver: dict,
    giver: dict,
    giver_id: int,
    points: int,
    message: str,
    reason: str,
    link: str | None,
    base_url: str,
    at: dt.datetime,
) -> dict:
    """The "received kudos" statement of one gift.

    The giver is named only as the context agent (which an erasure pseudonymises), never in the
    activity's name: activity definitions are shared and outlive the gift.
    """
    activities: dict = {"category": _category()}
    if link:
        activities["other"] = [{"objectType": "Activity", "id": link}]
    return {
        "id": statement_id,
        "actor": receiver,
        "verb": {"id": v.RECEIVED, "display": {"en-US": "received"}},
        "object": {
            "objectType": "Activity",
            "id": f"{kudos_activity_prefix(base_url, reason)}from/{giver_id}",
            "definition": {
                "type": v.KUDOS,
                "name": {"en-US": f"Kudos for {REASONS[reason]}"},
            },
        },
        "result": {"response": message, "extensions": {v.EXT_POINTS: points}},
        "context": {
            "contextActivities": activities,
            "contextAgents": [
                {"objectType": "contextAgent", "agent": giver, "relevantTypes": [v.ROLE_GIVER]}
            ],
        },
        "timestamp": _timestamp(at),
    }


def badge_statement(
    *,
    statement_id: str,
    earner: dict,
    badge_id: int,
    name: str,
    description: str,
    base_url: str,
    at: dt.datetime,
) -> dict:
    """The "earned a badge" statement of one award."""
    definition: dict = {"type": v.BADGE, "name": {"en-US": name}}
    if description:
        definition["description"] = {"en-US": description}
    return {
        "id": statement_id,
        "actor": earner,
        "verb": {"id": v.EARNED, "display": {"en-US": "earned"}},
        "object": {
            "objectType": "Activity",
            "id": badge_activity_id(base_url, badge_id),
            "definition": definition,
        },
        "result": {"success": True, "completion": True},
        "context": {"contextActivities": {"category": _category()}},
        "timestamp": _timestamp(at),
    }


def preferred_agent(agents: list[dict]) -> dict | None:
    """The most portable identity of a person (an mbox), as objectives' statements use."""
    return next((a for a in agents if "mbox" in a), agents[0] if agents else None)
