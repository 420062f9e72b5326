"""Linking identities to people and resolving agents to people. Callers own the session."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import queue
from lrs.catalogue import M_
from lrs.core.agents import IFI_KEYS, ifi_string
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.people.models import Identity, Person


def _identity_of(agent: dict) -> tuple[str, dict]:
    """The canonical IFI text of an Agent and the Agent reduced to that IFI."""
    identity = ifi_string(agent)
    if identity is None:
        raise BadRequest(
            M_("an identity needs an Agent with mbox, mbox_sha1sum, openid or account")
        )
    reduced = {"objectType": "Agent"}
    for key in IFI_KEYS:
        if key in agent:
            reduced[key] = agent[key]
            break
    return identity, reduced


def find_person(session: Session, store_id: int, agent: dict) -> Person | None:
    """The person an Agent belongs to, or None when no one has this identity."""
    identity = ifi_string(agent)
    if identity is None:
        return None
    return session.scalar(
        select(Person)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.store_id == store_id, Identity.ifi == identity)
    )


def create_person(
    session: Session, store_id: int, name: str = "", email: str | None = None
) -> Person:
    person = Person(store_id=store_id, name=name, email=email)
    session.add(person)
    session.flush()
    return person


def get_person(session: Session, store_id: int, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.store_id != store_id:
        raise NotFound(M_("no person %(id)s in this store", id=person_id))
    return person


def link_identity(
    session: Session, store_id: int, person: Person, agent: dict, source: str = "manual"
) -> Identity:
    """Attach an Agent identity to a person. Linking it again to the same person is a no-op.

    Raises Conflict when the identity already belongs to someone else: merging two people is a
    deliberate act (``merge_people``), never a side effect.
    """
    identity, reduced = _identity_of(agent)
    existing = session.scalar(
        select(Identity).where(Identity.store_id == store_id, Identity.ifi == identity)
    )
    if existing is not None:
        if existing.person_id != person.id:
            raise Conflict(
                M_(
                    "the identity %(identity)s already belongs to person %(person_id)s",
                    identity=identity,
                    person_id=existing.person_id,
                )
            )
        return existing
    row = Identity(
        store_id=store_id,
        person_id=person.id,
        ifi=identity,
        agent=json.dumps(reduced, separators=(",", ":")),
        source=source,
    )
    session.add(row)
    session.flush()
    queue.person_changed(session, store_id, person.id)  # earlier statements may count now
    return row


def ensure_person(
    session: Session, store_id: int, agent: dict, *, name: str = "", source: str = "manual"
) -> Person:
    """The person of an Agent, created with this single identity if nobody has it yet."""
    person = find_person(session, store_id, agent)
    if person is None:
        email = agent["mbox"].removeprefix("mailto:") if "mbox" in agent else None
        person = create_person(session, store_id, name or agent.get("name", ""), email)
        link_identity(session, store_id, person, agent, source)
    return person


def merge_people(session: Session, store_id: int, keep: Person, absorb: Person) -> Person:
    """Move every identity of ``absorb`` to ``keep`` and delete ``absorb``."""
    if keep.id == absorb.id:
        return keep
    for identity in session.scalars(
        select(Identity).where(Identity.store_id == store_id, Identity.person_id == absorb.id)
    ):
        identity.person_id = keep.id
    session.flush()
    session.delete(absorb)
    session.flush()
    queue.person_changed(session, store_id, keep.id)
    return keep


def identities(session: Session, store_id: int, person_id: int) -> list[dict]:
    """Every Agent identity of a person, oldest first."""
    return [
        json.loads(agent)
        for agent in session.scalars(
            select(Identity.agent)
            .where(Identity.store_id == store_id, Identity.person_id == person_id)
            .order_by(Identity.id)
        )
    ]
