"""Statement processing rules as pure functions: preparation, index terms, comparison.

These implement the parts of xAPI Data 2.3-2.4 that concern the LRS rather than the shape of a
statement (shape is checked by ``schemas.xapi``): the properties the LRS assigns, the normalised
``contextActivities``, the identity used to detect conflicting resends (Data 2.3.1), and the index
terms the query path filters on (Communication 2.1.3, including the StatementRef rules).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from lrs.core.agents import ifi_string, members
from lrs.core.versions import V200, default_statement_version
from schemas.fields import truncate_duration
from schemas.xapi import VOIDED_VERB

# Index term kinds; a term is (kind, value) hashed to a signed 64-bit key.
AGENT = "agent"
ACTIVITY = "activity"
VERB = "verb"
REGISTRATION = "registration"
AUTHORITY = "authority"


@lru_cache(maxsize=131072)
def term_key(kind: str, value: str) -> int:
    """The 64-bit index key of a term.

    A hash keeps index rows small and fixed-size whatever the length of an IRI. The chance that
    two of ten million distinct terms share a key is about 3 in a million.
    """
    digest = hashlib.blake2b(f"{kind}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass
class PreparedStatement:
    """A validated statement with everything the LRS assigns, ready to be stored."""

    id: str
    statement: dict
    object_ref: str | None
    voids: str | None
    terms: dict[int, bool]
    activities: list[dict] = field(default_factory=list)


def prepare_statement(
    raw: dict,
    *,
    version: str,
    authority: dict,
    stored: str,
    new_id: str,
    timestamp_to_utc=None,
) -> PreparedStatement:
    """Fill in what the LRS assigns (Data 2.4.1, 2.4.7-2.4.10) and compute the index terms.

    ``raw`` is not modified (only the parts that change are copied: this is the hot path).
    ``id`` is kept when given, else ``new_id``; ``stored`` and ``authority`` are always set by
    the LRS; ``timestamp`` defaults to ``stored``; ``version``
    defaults per request version; every ``contextActivities`` value becomes an array. Under 2.0.0
    ``timestamp_to_utc`` (a function of the timestamp string) converts the timestamp to UTC.
    """
    statement = dict(raw)
    statement_id = statement.get("id") or new_id
    statement["id"] = statement_id
    statement["stored"] = stored
    statement["authority"] = authority
    if "version" not in statement:
        statement["version"] = default_statement_version(version)
    if "timestamp" not in statement:
        statement["timestamp"] = stored
    elif version == V200 and timestamp_to_utc is not None:
        statement["timestamp"] = timestamp_to_utc(statement["timestamp"])
    if "context" in statement:
        statement["context"] = _arrays_in_context(statement["context"])
    obj = statement["object"]
    if obj.get("objectType") == "SubStatement":
        obj = statement["object"] = dict(obj)
        if "context" in obj:
            obj["context"] = _arrays_in_context(obj["context"])
        if version == V200 and timestamp_to_utc is not None and "timestamp" in obj:
            obj["timestamp"] = timestamp_to_utc(obj["timestamp"])

    object_ref = obj["id"].lower() if obj.get("objectType") == "StatementRef" else None
    voids = object_ref if statement["verb"]["id"] == VOIDED_VERB else None
    return PreparedStatement(
        id=statement_id.lower(),
        statement=statement,
        object_ref=object_ref,
        voids=voids,
        terms=index_terms(statement),
        activities=list(defined_activities(statement)),
    )


def _arrays_in_context(context: dict) -> dict:
    """Data 2.4.6.2: every contextActivities value is returned as an array (copies on change)."""
    activities = context.get("contextActivities")
    if not activities or not any(isinstance(v, dict) for v in activities.values()):
        return context
    context = dict(context)
    context["contextActivities"] = {
        key: [value] if isinstance(value, dict) else value for key, value in activities.items()
    }
    return context


def index_terms(statement: dict) -> dict[int, bool]:
    """The index keys of a statement, each flagged direct (True) or related-only (False).

    Direct terms answer the plain ``agent`` and ``activity`` filters: the actor and the object,
    and the members of a Group in those places (Communication 2.1.3). Related terms answer
    ``related_agents`` / ``related_activities``: authority, instructor, team, contextAgents,
    contextGroups, context activities, and all of these inside a SubStatement.
    """
    direct: list[tuple[str, str]] = [(VERB, statement["verb"]["id"])]
    related: list[tuple[str, str]] = []
    _agent_terms(statement["actor"], direct)
    obj = statement["object"]
    _object_terms(obj, direct)
    context = statement.get("context")
    if context:
        _context_terms(context, related)
        registration = context.get("registration")
        if registration:
            direct.append((REGISTRATION, registration.lower()))
    authority = statement.get("authority")
    if authority:
        _agent_terms(authority, related)
        direct.append((AUTHORITY, ifi_string(authority) or _group_identity(authority)))
    if obj.get("objectType") == "SubStatement":
        _agent_terms(obj["actor"], related)
        _object_terms(obj["object"], related)
        if obj.get("context"):
            _context_terms(obj["context"], related)
    terms = dict.fromkeys((term_key(kind, value) for kind, value in related), False)
    for kind, value in direct:
        terms[term_key(kind, value)] = True
    return terms


def _agent_terms(agent: dict, out: list[tuple[str, str]]) -> None:
    identity = ifi_string(agent)
    if identity is not None:
        out.append((AGENT, identity))
    for member in agent.get("member") or ():
        identity = ifi_string(member)
        if identity is not None:
            out.append((AGENT, identity))


def _object_terms(obj: dict, out: list[tuple[str, str]]) -> None:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out.append((ACTIVITY, obj["id"]))
    elif kind in ("Agent", "Group"):
        _agent_terms(obj, out)


def _context_terms(context: dict, out: list[tuple[str, str]]) -> None:
    for key in ("instructor", "team"):
        if key in context:
            _agent_terms(context[key], out)
    for item in context.get("contextAgents") or ():
        _agent_terms(item["agent"], out)
    for item in context.get("contextGroups") or ():
        _agent_terms(item["group"], out)
    for value in (context.get("contextActivities") or {}).values():
        for activity in value if isinstance(value, list) else (value,):
            out.append((ACTIVITY, activity["id"]))


def _group_identity(group: dict) -> str:
    """A stable identity for an anonymous Group authority (an OAuth client plus user pair)."""
    return "group|" + "|".join(sorted(filter(None, (ifi_string(m) for m in members(group)))))


def authority_key(authority: dict) -> int:
    """The index key that ``statements/read/mine`` filters on."""
    return term_key(AUTHORITY, ifi_string(authority) or _group_identity(authority))


def defined_activities(statement: dict) -> Iterable[dict]:
    """Every Activity in a statement that carries a definition, for the canonical store."""

    def from_object(obj: dict):
        if obj.get("objectType", "Activity") == "Activity" and obj.get("definition"):
            yield obj

    def from_context(context: dict | None):
        for value in ((context or {}).get("contextActivities") or {}).values():
            for activity in value if isinstance(value, list) else [value]:
                if activity.get("definition"):
                    yield activity

    obj = statement["object"]
    yield from from_object(obj)
    yield from from_context(statement.get("context"))
    if obj.get("objectType") == "SubStatement":
        yield from from_object(obj["object"])
        yield from from_context(obj.get("context"))


# --- Comparison (Data 2.3.1 Statement Immutability) -------------------------------------------

_IGNORED_TOP_LEVEL = ("id", "authority", "stored", "timestamp", "version", "attachments")


def comparable(statement: dict, version: str) -> dict:
    """The statement reduced to what immutability covers, for comparing two statements.

    Ignored: the properties the LRS may assign (id, authority, stored, timestamp, version),
    attachments, verb display, activity definitions, member order, case of mbox_sha1sum and of
    the mbox domain, default objectTypes, and a single context activity versus an array of one.
    Result duration compares as a string; under 2.0.0 only to 0.01 s (9274.1.1 §4.2.7).
    """
    out = {k: copy.deepcopy(v) for k, v in statement.items() if k not in _IGNORED_TOP_LEVEL}
    _normalise(out, version)
    return out


def same_statement(a: dict, b: dict, version: str) -> bool:
    """True when two statements are equal under the immutability rules (see ``comparable``)."""
    return comparable(a, version) == comparable(b, version)


def _normalise(statement: dict, version: str) -> None:
    statement["actor"] = _norm_agent(statement["actor"])
    statement["verb"] = {"id": statement["verb"]["id"]}
    statement["object"] = _norm_object(statement["object"], version)
    if "context" in statement:
        _norm_context(statement["context"])
    result = statement.get("result")
    if result and version == V200 and isinstance(result.get("duration"), str):
        result["duration"] = truncate_duration(result["duration"])


def _norm_agent(agent: dict) -> dict:
    agent = dict(agent)
    if agent.get("objectType") == "Agent":
        del agent["objectType"]
    if "mbox_sha1sum" in agent:
        agent["mbox_sha1sum"] = agent["mbox_sha1sum"].lower()
    if "mbox" in agent:
        local, _, domain = agent["mbox"].rpartition("@")
        agent["mbox"] = f"{local}@{domain.lower()}" if local else agent["mbox"]
    if "member" in agent:
        normalised = [_norm_agent(m) for m in agent["member"]]
        agent["member"] = sorted(normalised, key=lambda m: repr(sorted(m.items())))
    return agent


def _norm_object(obj: dict, version: str) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": obj["id"]}
    if kind in ("Agent", "Group"):
        normalised = _norm_agent(obj)
        if kind == "Agent":
            normalised["objectType"] = "Agent"
        return normalised
    if kind == "StatementRef":
        return {"objectType": "StatementRef", "id": obj["id"].lower()}
    sub = {k: copy.deepcopy(v) for k, v in obj.items() if k != "timestamp"}
    _normalise(sub, version)
    return sub


def _norm_context(context: dict) -> None:
    if "registration" in context:
        context["registration"] = context["registration"].lower()
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _norm_agent(context[key])
    activities = context.get("contextActivities")
    if activities:
        for key, value in list(activities.items()):
            items = value if isinstance(value, list) else [value]
            activities[key] = [{"id": a["id"]} for a in items]
    if "statement" in context:
        context["statement"] = {
            "objectType": "StatementRef",
            "id": context["statement"]["id"].lower(),
        }
