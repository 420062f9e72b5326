"""The Agents Resource (Communication 2.4): the Person object for an Agent.

A Person gathers every identifier and name known for one human: the identities linked to the
same person (``lrs.people``), or the requested Agent alone when it is linked to no one, and the
names sent with those identities in their most recent statements.
"""

from __future__ import annotations

import json

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.auth import require
from lrs.core import statements as st
from lrs.core.agents import IFI_KEYS, ifi_string
from lrs.core.versions import V103
from lrs.db import read_transaction
from lrs.errors import BadRequest, FieldError, invalid, required_parameter, unknown_parameters
from lrs.models import Statement, StatementIndex
from lrs.people.services import find_person, identities
from lrs.runtime import lrs_runtime
from lrs.xapi import xapi
from schemas.jsoninput import read_json

READ_SCOPES = ("all/read", "statements/read", "profile", "state", "define")
STATEMENTS = Statement.__table__
INDEX = StatementIndex.__table__
RECENT = 50


def person(identities: list[dict], names: list[str]) -> dict:
    """The Person object of one human's identities (Communication 2.4.s5): arrays throughout."""
    out: dict = {"objectType": "Person"}
    if names:
        out["name"] = names
    for key in IFI_KEYS:
        values = [identity[key] for identity in identities if key in identity]
        if values:
            out[key] = values
    return out


def known_names(session: Session, store_id: int, agent: dict) -> list[str]:
    """Names sent with this Agent as actor or object in its most recent statements."""
    identity = ifi_string(agent)
    key = st.term_key(st.AGENT, identity)
    payloads = session.scalars(
        select(STATEMENTS.c.payload)
        .select_from(INDEX.join(STATEMENTS, STATEMENTS.c.seq == INDEX.c.seq))
        .where(INDEX.c.store_id == store_id, INDEX.c.key == key, INDEX.c.direct.is_(True))
        .order_by(INDEX.c.stored_ms.desc(), INDEX.c.seq.desc())
        .limit(RECENT)
    ).all()
    names: list[str] = []
    for payload in payloads:
        statement = json.loads(payload)
        candidates = [
            statement["actor"],
            statement["object"],
            *statement["actor"].get("member", ()),
        ]
        for candidate in candidates:
            name = candidate.get("name")
            if name and ifi_string(candidate) == identity and name not in names:
                names.append(name)
    return names


@xapi.route("/agents", methods=["GET"])
def get_agents():
    """GET /agents?agent=…: the Person object (200 even for an Agent never seen)."""
    from schemas.xapi import StatementValidationError, validate_agent

    require(g.principal, *READ_SCOPES)
    unknown_parameters(request.args, {"agent"})
    raw = required_parameter(request.args, "agent")
    try:
        agent = validate_agent(
            read_json(raw, root="agent", unique_keys=g.xapi_version != V103),
            g.xapi_version,
            path="agent",
        )
    except TypeError:
        raise BadRequest(
            "agent: must be an Agent as JSON", [FieldError("agent", "must be JSON")]
        ) from None
    except StatementValidationError as exc:
        raise invalid(exc.errors) from None
    if agent.get("objectType") == "Group":
        raise BadRequest(
            "agent: must be an Agent, not a Group", [FieldError("agent", "must be an Agent")]
        )
    store_id = g.principal.store_id
    with read_transaction(lrs_runtime().sessions) as session:
        linked = find_person(session, store_id, agent)
        known = identities(session, store_id, linked.id) if linked else [agent]
        names = [linked.name] if linked and linked.name else []
        for identity in known:
            names.extend(n for n in known_names(session, store_id, identity) if n not in names)
    return jsonify(person(known, names))
