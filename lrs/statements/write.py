"""The one write path for statements: every source (HTTP, LTI, connectors, objectives) calls it.

Stages: ``prepare_batch`` (pure, outside any transaction: ids, authority, version, contextActivity
arrays, index terms, JSON) → ``store_prepared`` in one transaction holding the store's write lock
(stamp ``stored`` → check conflicts with one query → multi-row insert of statements and index
terms → follow StatementRefs → apply voiding → merge canonical Activity definitions).

``stored`` is stamped inside the write lock, so statements become visible in ``stored`` order and
the ``more`` cursor never skips a statement committed late.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lrs import metrics, queue
from lrs.auth import Principal
from lrs.core import jsontext
from lrs.core.attachments import AttachmentData
from lrs.core.statements import PreparedStatement, index_terms, prepare_statement, same_statement
from lrs.core.timefmt import format_ms, timestamp_to_utc
from lrs.errors import BadRequest, FieldError, StatementConflict
from lrs.models import AttachmentContent, Statement, StatementIndex
from lrs.sql import insert_many, lock_store_for_writing, marks, next_seqs, run, upsert
from lrs.statements import canonical
from schemas.jsoninput import find_nul

STATEMENTS = Statement.__table__
INDEX = StatementIndex.__table__
ATTACHMENTS = AttachmentContent.__table__


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_NODE = int.from_bytes(os.urandom(6), "big") | 1 << 40  # random node, multicast bit set


def time_uuid() -> uuid.UUID:
    """A time-based UUID (RFC 9562 version 1, random node) for statements sent without an id.

    Ids generated close in time sort close together, so they append near one place of the
    unique index instead of landing on a random page. Version 1, not 7: xAPI clients such as
    TinCanPython reject UUIDs whose version is not 1-5.
    """
    return uuid.uuid1(node=_NODE)


@dataclass
class PreparedBatch:
    """Statements ready to store, serialised with a placeholder for ``stored``."""

    statements: list[PreparedStatement]
    payloads: list[str]
    placeholder: str
    paths: list[str]
    version: str


@dataclass
class StoredBatch:
    """What a write did: every id in request order, how many were new, and ``stored``."""

    ids: list[str]
    inserted: int
    stored_ms: int


def prepare_batch(
    principal: Principal,
    statements: list[dict],
    version: str,
    *,
    new_id: Callable[[], uuid.UUID] = time_uuid,
    paths: list[str] | None = None,
) -> PreparedBatch:
    """Everything about a batch that needs no database; raises BadRequest for repeated ids.

    Communication 2.1.2 / 9274.1.1 §4.1.6.1: a batch with two statements of one id is a 400.
    """
    paths = paths or [f"statements[{i}]" for i in range(len(statements))]
    placeholder = "\u2063" + uuid.uuid4().hex[:22] + "\u2063"  # never equal to client text
    prepared = [
        prepare_statement(
            raw,
            version=version,
            authority=principal.authority,
            stored=placeholder,
            new_id=str(new_id()),
            timestamp_to_utc=timestamp_to_utc,
        )
        for raw in statements
    ]
    seen: dict[str, int] = {}
    for i, p in enumerate(prepared):
        if p.id in seen:
            message = f"repeats the id of {paths[seen[p.id]]} in the same batch"
            raise BadRequest(f"{paths[i]}.id: {message}", [FieldError(paths[i] + ".id", message)])
        seen[p.id] = i
    payloads = [jsontext.dumps(p.statement) for p in prepared]
    for i, payload in enumerate(payloads):
        # Every writer passes here, not only HTTP bodies (read by schemas.jsoninput): a NUL
        # serialises as \u0000, and PostgreSQL cannot index or compare text holding one.
        if "\\u0000" in payload and (where := find_nul(prepared[i].statement, paths[i])):
            message = "must not contain NUL characters (U+0000)"
            raise BadRequest(f"{where}: {message}", [FieldError(where, message)])
    return PreparedBatch(prepared, payloads, placeholder, paths, version)


def store_prepared(
    session: Session,
    principal: Principal,
    batch: PreparedBatch,
    *,
    clock: Callable[[], int] = now_ms,
    seen_definitions: canonical.SeenDefinitions | None = None,
    attachments: dict[str, AttachmentData] | None = None,
) -> StoredBatch:
    """Store a prepared batch atomically; return the ids in request order.

    Identical resends of stored statements are skipped (Data 2.3.1); a stored statement with the
    same id and different content raises StatementConflict and nothing is stored. The caller owns
    the transaction (``lrs.db.write_transaction``).
    """
    store_id = principal.store_id
    lock_store_for_writing(session, store_id)
    stored_ms = clock()
    stored = format_ms(stored_ms)
    for p in batch.statements:
        p.statement["stored"] = stored
        if p.statement["timestamp"] == batch.placeholder:
            p.statement["timestamp"] = stored
    fresh = _drop_identical_resends(session, store_id, batch)
    if attachments:
        _store_attachments(session, store_id, attachments)
    if fresh:
        _insert(session, store_id, batch, fresh, stored_ms, stored)
        queue.statements_stored(session, store_id, stored_ms)
        metrics.count_statements_after_commit(session, len(fresh), principal)
        if principal.allows("define"):
            canonical.merge_definitions(
                session, store_id, [batch.statements[i] for i in fresh], seen_definitions
            )
    return StoredBatch(
        ids=[p.statement["id"] for p in batch.statements], inserted=len(fresh), stored_ms=stored_ms
    )


def store_statements(
    session: Session,
    principal: Principal,
    statements: list[dict],
    version: str,
    *,
    clock: Callable[[], int] = now_ms,
    paths: list[str] | None = None,
) -> StoredBatch:
    """Prepare and store validated statements in the caller's write transaction."""
    batch = prepare_batch(principal, statements, version, paths=paths)
    return store_prepared(session, principal, batch, clock=clock)


def _store_attachments(
    session: Session, store_id: int, attachments: dict[str, AttachmentData]
) -> None:
    """Attachment data is stored once per store and hash; a known hash is not written again."""
    upsert(
        session,
        ATTACHMENTS,
        [
            {
                "store_id": store_id,
                "sha2": sha2,
                "content_type": data.content_type or "application/octet-stream",
                "length": len(data.content),
                "content": bytes(data.content),
            }
            for sha2, data in attachments.items()
        ],
        ["store_id", "sha2"],
    )


def _drop_identical_resends(session: Session, store_id: int, batch: PreparedBatch) -> list[int]:
    """Indexes of the statements to insert; one query checks the whole batch for stored ids."""
    prepared = batch.statements
    ids = [p.id for p in prepared]
    rows = run(
        session,
        f"SELECT statement_id, payload FROM statements WHERE store_id = ? "
        f"AND statement_id IN ({marks(len(ids))})",
        [store_id, *ids],
    ).all()
    if not rows:
        return list(range(len(prepared)))
    existing = dict(rows)
    fresh = []
    for i, p in enumerate(prepared):
        payload = existing.get(p.id)
        if payload is None:
            fresh.append(i)
        elif not same_statement(json.loads(payload), p.statement, batch.version):
            raise StatementConflict(p.statement["id"], batch.paths[i])
    return fresh


class ConcurrentWrite(Exception):
    """A unique constraint fired under a concurrent write; the request may be retried."""


def _insert(
    session: Session,
    store_id: int,
    batch: PreparedBatch,
    fresh: list[int],
    stored_ms: int,
    stored: str,
) -> None:
    seqs = next_seqs(session, len(fresh))
    placeholder = batch.placeholder
    rows = []
    for seq, i in zip(seqs, fresh, strict=True):
        p = batch.statements[i]
        rows.append(
            (
                seq,
                store_id,
                p.id,
                stored_ms,
                False,
                p.voids is not None,
                p.object_ref,
                p.statement["version"],
                batch.payloads[i].replace(placeholder, stored),
            )
        )
    try:
        insert_many(
            session,
            STATEMENTS,
            (
                "seq",
                "store_id",
                "statement_id",
                "stored_ms",
                "voided",
                "voiding",
                "object_ref",
                "version",
                "payload",
            ),
            rows,
        )
    except IntegrityError as exc:
        raise ConcurrentWrite() from exc

    new = [batch.statements[i] for i in fresh]
    terms = {p.id: dict(p.terms) for p in new}
    _inherit_from_targets(session, store_id, new, terms)
    seq_of = {p.id: seq for seq, p in zip(seqs, new, strict=True)}
    insert_many(
        session,
        INDEX,
        ("store_id", "key", "stored_ms", "seq", "direct"),
        [
            (store_id, key, stored_ms, seq_of[sid], direct)
            for sid, keys in terms.items()
            for key, direct in keys.items()
        ],
    )
    referrers = _propagate_to_referrers(session, store_id, terms)
    _apply_voiding(session, store_id, new, referrers)


def _inherit_from_targets(
    session: Session,
    store_id: int,
    new: list[PreparedStatement],
    terms: dict[str, dict[int, bool]],
) -> None:
    """Give each statement that targets another by StatementRef the target's terms, recursively.

    Communication 2.1.3: a targeting statement meets a filter when its target does.
    """
    pending = {p.id: p.object_ref for p in new if p.object_ref}
    if not pending:
        return
    known: dict[str, tuple[dict[int, bool], str | None]] = {
        p.id: (p.terms, p.object_ref) for p in new
    }
    frontier = {t for t in pending.values() if t not in known}
    while frontier:
        rows = run(
            session,
            f"SELECT statement_id, payload, object_ref FROM statements WHERE store_id = ? "
            f"AND statement_id IN ({marks(len(frontier))})",
            [store_id, *frontier],
        ).all()
        for statement_id, payload, object_ref in rows:
            known[statement_id] = (index_terms(json.loads(payload)), object_ref)
        frontier = {ref for _, _, ref in rows if ref and ref not in known}
    for statement_id, target in pending.items():
        merged = terms[statement_id]
        seen = {statement_id}
        while target and target in known and target not in seen:
            seen.add(target)
            target_terms, target = known[target]
            for key, direct in target_terms.items():
                merged[key] = merged.get(key, False) or direct


def _propagate_to_referrers(
    session: Session, store_id: int, new_terms: dict[str, dict[int, bool]]
) -> list:
    """Statements stored earlier that target these new ones inherit their terms, recursively.

    Returns the statements that target the new ones directly (their voiding flag is used next).
    """
    carried = new_terms
    visited: set[str] = set(new_terms)
    first_level = None
    while carried:
        rows = run(
            session,
            f"SELECT statement_id, object_ref, seq, stored_ms, voiding FROM statements "
            f"WHERE store_id = ? AND object_ref IN ({marks(len(carried))})",
            [store_id, *carried],
        ).all()
        if first_level is None:
            first_level = rows
        rows = [r for r in rows if r.statement_id not in visited]
        if not rows:
            break
        upsert_rows = []
        next_carried: dict[str, dict[int, bool]] = {}
        for row in rows:
            visited.add(row.statement_id)
            inherited = carried[row.object_ref]
            next_carried[row.statement_id] = inherited
            upsert_rows.extend(
                {
                    "store_id": store_id,
                    "key": k,
                    "stored_ms": row.stored_ms,
                    "seq": row.seq,
                    "direct": d,
                }
                for k, d in inherited.items()
            )
        upsert(
            session, INDEX, upsert_rows, ["store_id", "key", "stored_ms", "seq"], or_column="direct"
        )
        carried = next_carried
    return first_level or []


def _apply_voiding(
    session: Session, store_id: int, new: list[PreparedStatement], referrers: list
) -> None:
    """Data 2.3.2: a statement is voided iff it is not voiding and a voiding statement targets it.

    Covers both orders of arrival: the voiding statement after its target, and before it
    (``referrers`` are the stored statements that target the new ones, this batch included).
    """
    targets = {p.voids for p in new if p.voids}
    targets.update(r.object_ref for r in referrers if r.voiding)
    if targets:
        run(
            session,
            f"UPDATE statements SET voided = ? WHERE store_id = ? AND voiding = ? "
            f"AND statement_id IN ({marks(len(targets))})",
            [True, store_id, False, *targets],
        )
