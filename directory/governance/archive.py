"""A person's data as one JSON document (GDPR art. 20), written piece by piece.

The document is produced from the person's ``inventory`` in one read snapshot, a few hundred
rows at a time, so a person with a million statements costs memory for a few hundred. Its
``manifest`` counts what each part holds; statements are exactly as stored, documents as JSON
when they are JSON and base64 otherwise, accounts without password hashes.

Floors above this one keep more about a person (kudos, badges, mentoring, after-action
reviews); each adds its parts with ``register_part``, read in the same snapshot.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from directory.governance.inventory import Inventory, _chunks, inventory
from lrs.sql import marks, run

FORMAT = "learnloop-person-archive/1"
Rows = Callable[[Session, int, int], list[dict]]


@dataclass(frozen=True)
class Part:
    """A part other floors add to the archive.

    ``rows(session, store_id, person_id)``: a list of JSON objects about the person (their own
    rows; other people by id only); ``label``: what it is, in words (an ``N_`` text: the erase
    page counts it, since an erasure takes these rows too).
    """

    rows: Rows
    label: str


PARTS: dict[str, Part] = {}


def register_part(name: str, rows: Rows, label: str) -> None:
    """Add a part to every archive, after the directory's own (``recognition``, ``feedback``)."""
    PARTS[name] = Part(rows, label)


def part_counts(session: Session, store_id: int, person_id: int) -> dict[str, int]:
    """How many rows each added part holds about the person (what an erasure also deletes)."""
    return {name: len(part.rows(session, store_id, person_id)) for name, part in PARTS.items()}


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _rows(session: Session, sql: str, ids: list[int], store_id: int) -> Iterator:
    """Rows by primary key, a chunk at a time, checked against the store last.

    ``sql`` says ``… IN ({marks}) AND store_id + 0 = ?`` (see ``rows.by_seq``).
    """
    for chunk in _chunks(ids):
        yield from run(session, sql.format(marks=marks(len(chunk))), [*chunk, store_id]).all()


def _array(items: Iterator[str]) -> Iterator[str]:
    yield "["
    first = True
    for item in items:
        yield item if first else "," + item
        first = False
    yield "]"


def manifest(inv: Inventory, added: dict[str, list] | None = None) -> dict[str, int]:
    """What the archive holds, per part.

    The numbers of the inventory, by construction, and those of the parts other floors added.
    """
    return {
        **{name: len(rows) for name, rows in (added or {}).items()},
        "identities": len(inv.identities),
        "statements": len(inv.theirs),
        "documents": len(inv.documents),
        "accounts": len(inv.accounts),
        "reviews": len(inv.reviews),
        "objectives": len(inv.objectives),
        "lti_launches": len(inv.lti_launches),
        "lti_memberships": len(inv.lti_memberships),
    }


def _document(row) -> str:
    doc_id, kind, activity_id, agent_ifi, registration, document_id, ctype, content, updated = row
    content = bytes(content)
    out: dict = {
        "kind": kind,
        "activity_id": activity_id,
        "registration": registration,
        "document_id": document_id,
        "content_type": ctype,
        "updated_ms": updated,
    }
    if ctype.split(";")[0].strip().lower() == "application/json":
        try:
            out["content"] = json.loads(content)
        except ValueError:
            out["content_base64"] = base64.b64encode(content).decode()
    else:
        out["content_base64"] = base64.b64encode(content).decode()
    return _dumps(out)


def archive_parts(session: Session, store_id: int, person_id: int) -> Iterator[str]:
    """The archive of one person as JSON text pieces; NotFound (before any piece) if unknown."""
    inv = inventory(session, store_id, person_id, others=False)
    return _parts(session, inv)


def _parts(session: Session, inv: Inventory) -> Iterator[str]:
    s = inv.store_id
    person = run(
        session,
        "SELECT id, name, email, created_at, deactivated_at FROM people WHERE id = ?",
        [inv.person_id],
    ).one()
    added = {name: part.rows(session, s, inv.person_id) for name, part in PARTS.items()}
    yield '{"format":' + _dumps(FORMAT)
    yield ',"manifest":' + _dumps(manifest(inv, added))
    yield ',"person":' + _dumps(
        {
            "id": person[0],
            "name": person[1],
            "email": person[2],
            "created_at": person[3],
            "deactivated_at": person[4],
        }
    )
    yield ',"identities":'
    yield from _array(
        _dumps({"agent": json.loads(agent), "source": source})
        for agent, source in _rows(
            session,
            "SELECT agent, source FROM identities WHERE id IN ({marks}) AND store_id + 0 = ?",
            inv.identities,
            s,
        )
    )
    yield ',"statements":'
    yield from _array(
        payload
        for (payload,) in _rows(
            session,
            "SELECT payload FROM statements WHERE seq IN ({marks}) AND store_id + 0 = ? "
            "ORDER BY seq",
            inv.theirs,
            s,
        )
    )
    yield ',"documents":'
    yield from _array(
        _document(row)
        for row in _rows(
            session,
            "SELECT id, kind, activity_id, agent_ifi, registration, document_id, content_type, "
            "content, updated_ms FROM documents WHERE id IN ({marks}) AND store_id + 0 = ? "
            "ORDER BY id",
            inv.documents,
            s,
        )
    )
    yield ',"accounts":'
    yield from _array(
        _dumps(
            {
                "id": r[0],
                "email": r[1],
                "is_admin": bool(r[2]),
                "created_at": r[3],
                "disabled_at": r[4],
                "signs_in_with_password": r[5] is not None,
            }
        )
        for r in _rows(
            session,
            "SELECT id, email, is_admin, created_at, disabled_at, password_hash FROM accounts "
            "WHERE id IN ({marks}) AND store_id + 0 = ? ORDER BY id",
            inv.accounts,
            s,
        )
    )
    yield ',"reviews":'
    objectives: dict[int, list] = {}
    for r in _rows(
        session,
        "SELECT review_id, id, title, description, due_on, weight, rule, k, criteria, "
        "satisfied_at FROM objectives WHERE id IN ({marks}) AND store_id + 0 = ? ORDER BY id",
        inv.objectives,
        s,
    ):
        objectives.setdefault(r[0], []).append(
            {
                "id": r[1],
                "title": r[2],
                "description": r[3],
                "due_on": r[4],
                "weight": r[5],
                "rule": r[6],
                "k": r[7],
                "criteria": json.loads(r[8]),
                "satisfied_at": r[9],
            }
        )
    yield from _array(
        _dumps(
            {
                "id": r[0],
                "cycle": r[1],
                "status": r[2],
                "manager_comment": r[3],
                "reviewer_comment": r[4],
                "created_at": r[5],
                "objectives": objectives.get(r[0], []),
            }
        )
        for r in _rows(
            session,
            "SELECT r.id, c.name, r.status, r.manager_comment, r.reviewer_comment, r.created_at "
            "FROM reviews r JOIN review_cycles c ON c.id = r.cycle_id "
            "WHERE r.id IN ({marks}) AND r.store_id + 0 = ? ORDER BY r.id",
            inv.reviews,
            s,
        )
    )
    yield ',"lti_launches":'
    yield from _array(
        _dumps(
            {
                "sub": r[0],
                "deployment_id": r[1],
                "message_type": r[2],
                "roles": json.loads(r[3]),
                "statement_id": r[4],
                "created_ms": r[5],
            }
        )
        for r in _rows(
            session,
            "SELECT sub, deployment_id, message_type, roles, statement_id, created_ms "
            "FROM lti_launches WHERE id IN ({marks}) AND store_id + 0 = ? ORDER BY id",
            inv.lti_launches,
            s,
        )
    )
    yield ',"lti_memberships":'
    yield from _array(
        _dumps(
            {
                "user_id": r[0],
                "name": r[1],
                "email": r[2],
                "roles": json.loads(r[3]),
                "status": r[4],
            }
        )
        for r in _rows(
            session,
            "SELECT user_id, name, email, roles, status FROM lti_memberships "
            "WHERE id IN ({marks}) AND store_id + 0 = ? ORDER BY id",
            inv.lti_memberships,
            s,
        )
    )
    for name, rows in added.items():
        yield f',"{name}":' + _dumps(rows)
    yield "}"
