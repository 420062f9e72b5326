"""The query path for statements: single fetches and filtered pages with a keyset cursor.

Every filter is an equality on ``statement_index`` (store, key) read in (stored, seq) order, so a
page costs the same however deep it is: the ``more`` cursor is the (stored, seq) of the last row,
never an OFFSET (Communication 2.1.3; Data 2.5).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.auth import Principal
from lrs.core import formats
from lrs.core.agents import ifi_string
from lrs.core.query import StatementQuery, Term, encode_more
from lrs.errors import NotFound
from lrs.models import AttachmentContent, Statement, StatementIndex
from lrs.sql import run
from lrs.statements.canonical import canonical_definitions

STATEMENTS = Statement.__table__
INDEX = StatementIndex.__table__
ATTACHMENTS = AttachmentContent.__table__


@dataclass
class StatementPage:
    """One page of results: statements as JSON text, the ``more`` token and the newest stored."""

    statements: list[str]
    more: str | None
    last_modified_ms: int | None


def _only_mine(principal: Principal) -> bool:
    """``statements/read/mine`` alone restricts reads to statements this credential stored."""
    return not principal.allows("statements/read", "all/read")


def get_statement(
    session: Session, principal: Principal, query: StatementQuery, languages: list[str]
) -> tuple[str, int]:
    """The statement with this id (or the voided one for voidedStatementId) and its stored ms.

    Raises NotFound when it is absent, voided when asked by statementId, or not voided when asked
    by voidedStatementId (Communication 2.1.4).
    """
    row = session.execute(
        select(STATEMENTS.c.payload, STATEMENTS.c.stored_ms, STATEMENTS.c.voided).where(
            STATEMENTS.c.store_id == principal.store_id,
            STATEMENTS.c.statement_id == query.statement_id,
        )
    ).first()
    if row is None or row.voided != query.voided:
        name = "voidedStatementId" if query.voided else "statementId"
        raise NotFound(f"no statement with {name} {query.statement_id}")
    payload = row.payload
    if _only_mine(principal):
        authority = json.loads(payload).get("authority") or {}
        if ifi_string(authority) != ifi_string(principal.authority):
            raise NotFound(f"no statement with statementId {query.statement_id}")
    return format_statements([payload], query, session, principal.store_id, languages)[
        0
    ], row.stored_ms


def query_statements(
    session: Session, principal: Principal, query: StatementQuery, languages: list[str]
) -> StatementPage:
    """A page of statements matching ``query``, newest first unless ``ascending``."""
    store_id = principal.store_id
    extra = [Term(principal.authority_key, True)] if _only_mine(principal) else []
    sql, params = statement_sql(session.get_bind().dialect.name, store_id, query, extra)
    rows = run(session, sql + " LIMIT ?", [*params, query.limit + 1]).all()

    more = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        more = encode_more(query, (last.stored_ms, last.seq))
    payloads = format_statements([r.payload for r in rows], query, session, store_id, languages)
    last_modified = max((r.stored_ms for r in rows), default=None)
    return StatementPage(payloads, more, last_modified)


def statement_sql(
    dialect: str, store_id: int, query: StatementQuery, extra_terms: Sequence[Term] = ()
) -> tuple[str, list]:
    """The SELECT of (seq, stored_ms, payload) matching ``query``, ordered, without a LIMIT.

    Shared by the pages of GET /statements and the export (``lrs.statements.export``), so both
    read the same statements in the same order: not voided, every term an index equality
    (the parser puts the most selective first), ``since``/``until`` on stored, and the keyset
    position ``query.cursor`` (exclusive). Driver SQL, not a SQLAlchemy SELECT built and hashed
    on every request: the text depends only on the query's shape and is built once per shape;
    the values are parameters.
    """
    terms = [*query.terms, *extra_terms]
    cursor = query.cursor is not None
    sql = _statement_sql(
        dialect,
        tuple(term.direct for term in terms),
        query.since_ms is not None,
        query.until_ms is not None,
        cursor,
        query.ascending,
    )
    params: list = []
    for term in terms:
        params += [store_id, term.key]
    if not terms:
        params.append(store_id)
    if query.since_ms is not None:
        params.append(query.since_ms)
    if query.until_ms is not None:
        params.append(query.until_ms)
    if cursor:
        stored, seq = query.cursor
        params += [stored, stored, stored, seq]
    return sql, params


@functools.cache
def _statement_sql(
    dialect: str,
    directs: tuple[bool, ...],
    since: bool,
    until: bool,
    cursor: bool,
    ascending: bool,
) -> str:
    true, false = ("true", "false") if dialect == "postgresql" else ("1", "0")
    if directs:
        stored, seq = "i0.stored_ms", "i0.seq"
        where = [
            "i0.store_id = ? AND i0.key = ?" + (f" AND i0.direct IS {true}" if directs[0] else "")
        ]
        for n, direct in enumerate(directs[1:], start=1):
            where.append(
                f"EXISTS (SELECT 1 FROM statement_index i{n} WHERE i{n}.store_id = ? AND "
                f"i{n}.key = ? AND i{n}.stored_ms = i0.stored_ms AND i{n}.seq = i0.seq"
                + (f" AND i{n}.direct IS {true}" if direct else "")
                + ")"
            )
        # stored_ms in the join lets PostgreSQL probe one month's partition (lrs.partitions).
        if dialect == "postgresql":
            # A lateral subquery that is not pulled up (OFFSET 0): as a plain join, PostgreSQL
            # takes the two equalities for independent and expects one row in all, so it
            # sorts every match (100 ms for a verb in 200,000 statements) instead of walking
            # the index in order and stopping at the LIMIT (0.3 ms).
            head = (
                "SELECT s.seq, s.stored_ms, s.payload FROM statement_index i0 CROSS JOIN "
                "LATERAL (SELECT statements.seq, statements.stored_ms, statements.payload "
                "FROM statements WHERE statements.seq = i0.seq AND statements.stored_ms = "
                f"i0.stored_ms AND statements.voided IS {false} OFFSET 0) s"
            )
        else:
            head = (
                "SELECT statements.seq, statements.stored_ms, statements.payload "
                "FROM statement_index i0 JOIN statements ON statements.seq = i0.seq "
                "AND statements.stored_ms = i0.stored_ms"
            )
    else:
        stored, seq = "statements.stored_ms", "statements.seq"
        where = ["statements.store_id = ?"]
        head = "SELECT statements.seq, statements.stored_ms, statements.payload FROM statements"
    if not directs or dialect != "postgresql":
        where.append(f"statements.voided IS {false}")
    if since:
        where.append(f"{stored} > ?")
    if until:
        where.append(f"{stored} <= ?")
    if cursor:
        cmp = ">" if ascending else "<"
        where.append(
            f"{stored} {cmp}= ? AND ({stored} {cmp} ? OR ({stored} = ? AND {seq} {cmp} ?))"
        )
    order = "ASC" if ascending else "DESC"
    return f"{head} WHERE {' AND '.join(where)} ORDER BY {stored} {order}, {seq} {order}"


def format_statements(
    payloads: list[str],
    query: StatementQuery,
    session: Session,
    store_id: int,
    languages: list[str],
) -> list[str]:
    """Stored payloads shaped by ``query.format`` (exact, ids, canonical), as JSON text."""
    if query.format == "exact" or not payloads:
        return payloads
    statements = [json.loads(p) for p in payloads]
    if query.format == "ids":
        shaped = [formats.as_ids(s) for s in statements]
    else:
        ids: set[str] = set()
        for s in statements:
            ids.update(_activity_ids(s))
        definitions = canonical_definitions(session, store_id, ids)
        shaped = [formats.as_canonical(s, definitions.get, languages) for s in statements]
    return [json.dumps(s, separators=(",", ":"), ensure_ascii=False) for s in shaped]


def _activity_ids(statement: dict) -> set[str]:
    """Every Activity id of a statement (object, context activities, inside a SubStatement)."""
    ids: set[str] = set()

    def visit(part: dict) -> None:
        obj = part["object"]
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            ids.add(obj["id"])
        elif kind == "SubStatement":
            visit(obj)
        for value in ((part.get("context") or {}).get("contextActivities") or {}).values():
            ids.update(a["id"] for a in value)

    visit(statement)
    return ids


def attachment_parts(
    session: Session, store_id: int, statements: list[str]
) -> list[tuple[str, str, bytes]]:
    """(content type, sha2, bytes) of every attachment the statements reference, once each."""
    from lrs.core.attachments import referenced_hashes

    wanted: list[str] = []
    for payload in statements:
        for sha2 in referenced_hashes(json.loads(payload)):
            if sha2 not in wanted:
                wanted.append(sha2)
    if not wanted:
        return []
    rows = session.execute(
        select(ATTACHMENTS.c.sha2, ATTACHMENTS.c.content_type, ATTACHMENTS.c.content).where(
            ATTACHMENTS.c.store_id == store_id, ATTACHMENTS.c.sha2.in_(wanted)
        )
    ).all()
    found = {sha2: (content_type, sha2, bytes(content)) for sha2, content_type, content in rows}
    return [found[sha2] for sha2 in wanted if sha2 in found]
