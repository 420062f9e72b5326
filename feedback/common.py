"""Small helpers shared by the feedback modules: refusals with paths, days, people."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict, FieldError
from lrs.people.models import Person
from objectives.errors import Hidden, NotAllowed


def bad(path: str, message: str) -> BadRequest:
    return BadRequest(at(path, message), [FieldError(path, message)])


def conflict(path: str, message: str) -> Conflict:
    return Conflict(at(path, message), [FieldError(path, message)])


def hidden(path: str, message: str) -> Hidden:
    return Hidden(at(path, message), [FieldError(path, message)])


def not_allowed(message: str) -> NotAllowed:
    return NotAllowed(message)


def day_of(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def colleague(session: Session, store_id: int, person_id: int, path: str) -> Person:
    """An active person of the store; a 404 naming ``path`` otherwise."""
    person = session.get(Person, person_id) if person_id else None
    if person is None or person.store_id != store_id or person.deactivated_at is not None:
        raise hidden(path, M_("no colleague %(id)s", id=person_id))
    return person


def names(session: Session, person_ids: set[int] | list[int]) -> dict[int, str]:
    ids = set(person_ids)
    if not ids:
        return {}
    return dict(session.query(Person.id, Person.name).filter(Person.id.in_(ids)))
