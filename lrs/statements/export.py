"""Statement export: every statement a filter matches, as NDJSON or CSV, streamed.

The filters are those of GET /statements (agent, verb, activity, registration,
related_activities, related_agents, since, until, ascending) and are parsed by the same rules
(``lrs.core.query``); the statements are read by the same SELECT (``read.statement_sql``), so
an export holds exactly what paging through ``more`` would, in the same order, voided
statements left out. ``statement_format`` (ids, exact, canonical) is GET's ``format``; the
JSON is the stored statement exactly as GET returns it (Learnloop returns the stored JSON under
either xAPI version, so the version does not change it).

Memory stays flat however many statements match: on PostgreSQL one query read through a
server-side cursor (``stream_results``) a chunk at a time; on SQLite keyset chunks by (stored,
seq), never OFFSET. Both run in one read transaction, so the export is one consistent snapshot.

CSV columns (``CSV_COLUMNS``), one row per statement, after a header row:

=================== ===========================================================================
id                  the statement id
timestamp, stored   as in the statement
actor_name          the actor's ``name``
actor_ifi           ``mailto:…``, ``mbox_sha1sum:<hex>``, ``openid:<url>`` or
                    ``account:<homePage>|<name>``; empty for an anonymous Group
verb_id             the verb IRI
verb_display        its display in ``en`` (or ``en-*``), else its first language
object_id           an Activity's id, a StatementRef's id, an Agent's or Group's IFI as above
object_type         Activity, Agent, Group, StatementRef or SubStatement
object_name         an Activity's name (``en`` or first), an Agent's or Group's name
result_success,     true/false, empty when absent
result_completion
result_score_scaled, result_score_raw, result_duration
context_registration, context_platform
parent_ids          the ``contextActivities.parent`` ids, separated by a space
authority_name      the authority's name (or its IFI when it has none)
statement           the whole statement as JSON, in the chosen statement_format
=================== ===========================================================================

A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is quoted with an
apostrophe, as in the audit export; numbers and the JSON column are written as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from lrs.core.query import FORMATS as STATEMENT_FORMATS
from lrs.core.query import StatementQuery, parse_statement_query
from lrs.core.versions import V200
from lrs.errors import BadRequest, FieldError
from lrs.sql import run
from lrs.statements.read import format_statements, statement_sql

#: The export's own formats (the ``format`` parameter).
EXPORT_FORMATS = ("ndjson", "csv")
#: GET /statements' filters an export takes, under the same names.
FILTERS = (
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "ascending",
)
PARAMETERS = frozenset({"format", "statement_format", *FILTERS})
#: Statements read, shaped and written per round trip: bounds the memory an export holds.
CHUNK = 1000
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}

CSV_COLUMNS = (
    "id",
    "timestamp",
    "stored",
    "actor_name",
    "actor_ifi",
    "verb_id",
    "verb_display",
    "object_id",
    "object_type",
    "object_name",
    "result_success",
    "result_completion",
    "result_score_scaled",
    "result_score_raw",
    "result_duration",
    "context_registration",
    "context_platform",
    "parent_ids",
    "authority_name",
    "statement",
)


@dataclass(frozen=True)
class Export:
    """A parsed export request: the output format and the statement query it runs."""

    kind: str  # ndjson | csv
    query: StatementQuery


def _fail(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", [FieldError(name, message)])


def parse_export(params: Mapping[str, str], version: str = V200) -> Export:
    """Parse an export's parameters; BadRequest naming the parameter for anything wrong.

    ``format`` is ndjson (default) or csv; ``statement_format`` is GET's ``format``; the filters
    are GET's, checked by the same parser. ``limit``, ``more``, ``statementId`` and
    ``attachments`` are refused: an export is every matching statement, without attachments.
    """
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        name = unknown[0]
        why = (
            "an export holds every statement that matches; it takes no " + name
            if name in ("limit", "more", "statementId", "voidedStatementId", "attachments")
            else "unknown parameter"
        )
        raise BadRequest(f"{name}: {why}", [FieldError(n, "unknown parameter") for n in unknown])
    kind = params.get("format") or "ndjson"
    if kind not in EXPORT_FORMATS:
        raise _fail("format", "must be ndjson or csv")
    statement_format = params.get("statement_format") or "exact"
    if statement_format not in STATEMENT_FORMATS:
        raise _fail("statement_format", "must be one of ids, exact, canonical")
    filters = {name: params[name] for name in FILTERS if name in params}
    query = parse_statement_query({**filters, "format": statement_format}, version)
    return Export(kind, query)


def iter_statements(
    session: Session,
    store_id: int,
    query: StatementQuery,
    languages: list[str],
    chunk: int | None = None,
) -> Iterator[list[str]]:
    """The matching statements as JSON text, a chunk (list) at a time, in GET's order."""
    chunk = chunk or CHUNK
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        sql, params = statement_sql(dialect, store_id, query)
        connection = session.connection().execution_options(stream_results=True, yield_per=chunk)
        result = connection.exec_driver_sql(sql.replace("?", "%s"), tuple(params))
        try:
            for rows in result.partitions(chunk):
                yield format_statements(
                    [r.payload for r in rows], query, session, store_id, languages
                )
        finally:
            result.close()
        return
    position = query.cursor
    while True:
        sql, params = statement_sql(dialect, store_id, replace(query, cursor=position))
        rows = run(session, sql + " LIMIT ?", [*params, chunk]).all()
        if not rows:
            return
        yield format_statements([r.payload for r in rows], query, session, store_id, languages)
        if len(rows) < chunk:
            return
        position = (rows[-1].stored_ms, rows[-1].seq)


def ndjson_chunks(chunks: Iterable[list[str]]) -> Iterator[str]:
    """One statement per line (newline-terminated), a chunk's lines per string."""
    for statements in chunks:
        yield "".join(s + "\n" for s in statements)


def csv_chunks(chunks: Iterable[list[str]]) -> Iterator[str]:
    """The header row, then one row per statement (``CSV_COLUMNS``), a chunk per string."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    for statements in chunks:
        writer.writerows(csv_row(text) for text in statements)
        yield take()


def export_chunks(
    session: Session,
    store_id: int,
    export: Export,
    languages: Sequence[str] = (),
    chunk: int | None = None,
) -> Iterator[str]:
    """The whole export as text, a chunk at a time (the CSV header first)."""
    chunks = iter_statements(session, store_id, export.query, list(languages), chunk)
    return csv_chunks(chunks) if export.kind == "csv" else ndjson_chunks(chunks)


def download_name(store_name: str, kind: str, day: dt.date) -> str:
    """``statements-<store>-<day>.<kind>``: a file name safe in a Content-Disposition header."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", store_name)
    return f"statements-{safe}-{day.isoformat()}.{kind}"


# ---- CSV cells --------------------------------------------------------------------------------


def csv_row(text: str) -> list[str]:
    """The ``CSV_COLUMNS`` cells of one statement given as JSON text."""
    s = json.loads(text)
    actor = s.get("actor") or {}
    verb = s.get("verb") or {}
    obj = s.get("object") or {}
    kind = obj.get("objectType", "Activity")
    result = s.get("result") or {}
    score = result.get("score") or {}
    context = s.get("context") or {}
    parents = (context.get("contextActivities") or {}).get("parent") or []
    authority = s.get("authority") or {}
    if kind == "Activity":
        object_id, object_name = obj.get("id"), _language((obj.get("definition") or {}).get("name"))
    elif kind in ("Agent", "Group"):
        object_id, object_name = _ifi(obj), obj.get("name")
    elif kind == "StatementRef":
        object_id, object_name = obj.get("id"), None
    else:
        object_id, object_name = None, None
    cells = [
        s.get("id"),
        s.get("timestamp"),
        s.get("stored"),
        actor.get("name"),
        _ifi(actor),
        verb.get("id"),
        _language(verb.get("display")),
        object_id,
        kind,
        object_name,
        result.get("success"),
        result.get("completion"),
        score.get("scaled"),
        score.get("raw"),
        result.get("duration"),
        context.get("registration"),
        context.get("platform"),
        " ".join(p["id"] for p in parents if isinstance(p, dict) and "id" in p),
        authority.get("name") or _ifi(authority),
    ]
    return [_cell(c) for c in cells] + [text]


def _ifi(agent: dict) -> str | None:
    """An Agent's or Group's IFI as one string: its kind is told by the prefix."""
    if "mbox" in agent:
        return agent["mbox"]
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum:" + agent["mbox_sha1sum"]
    if "openid" in agent:
        return "openid:" + agent["openid"]
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage', '')}|{account.get('name', '')}"
    return None


def _language(language_map: dict | None) -> str | None:
    """The ``en`` entry of a language map, else an ``en-*`` one, else the first."""
    if not language_map:
        return None
    if "en" in language_map:
        return language_map["en"]
    for tag, value in language_map.items():
        if tag.lower().startswith("en-"):
            return value
    return next(iter(language_map.values()))


#: A text cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")


def _cell(value) -> str:
    kind = type(value)
    if kind is str:
        # Quoted with an apostrophe, as the audit export does, so a spreadsheet shows the text.
        return "'" + value if value and value[0] in FORMULA_STARTS else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)  # as JSON writes it
    return _cell(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
