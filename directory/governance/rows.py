"""Deleting statements with their index rows, found by primary key rather than by scan.

``statement_index`` is keyed (store, key, stored, seq) for the query path and has no index by
``seq``: deleting "the rows of these statements" by seq would read every index row of the
store, once per batch. A statement's rows are its own index terms plus, for a statement that
targets another by StatementRef, the terms it inherited from its targets (Communication 2.1.3,
``lrs.statements.write``); both are computed here from the payloads, so each row is deleted by
its full key. A row whose target has gone meanwhile may be missed; it points at no statement,
and the query path, which joins statements, never returns it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from lrs.core.jsontext import loads
from lrs.core.statements import index_terms
from lrs.sql import keep_seq_floor, marks, run


def by_seq(count: int) -> str:
    """``seq IN (?, …) AND store_id + 0 = ?``: rows by primary key, checked against the store.

    Written so that no database prefers an index that starts with ``store_id`` (statements and
    learning facts have several): SQLite did, and read every row of the store for each batch.
    Parameters: the seqs, then the store id.
    """
    return f"seq IN ({marks(count)}) AND store_id + 0 = ?"


#: How far a chain of StatementRefs is followed (the write path follows it to its end; chains
#: longer than this are not seen in practice).
MAX_REF_DEPTH = 16


def _inherited(session: Session, store_id: int, refs: dict[int, str]) -> dict[int, set[int]]:
    """For each seq that targets a statement, the index keys of its chain of targets."""
    out: dict[int, set[int]] = {seq: set() for seq in refs}
    frontier = {seq: target for seq, target in refs.items()}
    known: dict[str, tuple[set[int], str | None]] = {}
    for _ in range(MAX_REF_DEPTH):
        wanted = {t for t in frontier.values() if t and t not in known}
        if wanted:
            for statement_id, payload, object_ref in run(
                session,
                f"SELECT statement_id, payload, object_ref FROM statements WHERE store_id = ? "
                f"AND statement_id IN ({marks(len(wanted))})",
                [store_id, *wanted],
            ).all():
                known[statement_id] = (set(index_terms(loads(payload))), object_ref)
        next_frontier = {}
        for seq, target in frontier.items():
            if target in known:
                keys, further = known[target]
                out[seq] |= keys
                if further:
                    next_frontier[seq] = further
        if not next_frontier:
            break
        frontier = next_frontier
    return out


def delete_statements(
    session: Session,
    store_id: int,
    rows: Sequence[tuple[int, int, str, str | None]],
    *,
    facts: bool,
) -> None:
    """Delete statements with their index rows and, when ``facts``, their learning facts.

    ``rows`` are (seq, stored_ms, payload, object_ref). The caller holds the write lock.
    """
    if not rows:
        return
    keep_seq_floor(session)
    refs = {seq: ref for seq, _, _, ref in rows if ref}
    inherited = _inherited(session, store_id, refs) if refs else {}
    keys = [
        (store_id, key, stored_ms, seq)
        for seq, stored_ms, payload, _ in rows
        for key in set(index_terms(loads(payload))) | inherited.get(seq, set())
    ]
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    if keys:  # executemany: psycopg pipelines it, SQLite runs it in one call
        connection.exec_driver_sql(
            f"DELETE FROM statement_index WHERE store_id = {mark} AND key = {mark} "
            f"AND stored_ms = {mark} AND seq = {mark}",
            keys,
        )
    seqs = [row[0] for row in rows]
    for table in ("learning_facts", "statements") if facts else ("statements",):
        run(session, f"DELETE FROM {table} WHERE {by_seq(len(seqs))}", [*seqs, store_id])
