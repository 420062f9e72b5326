"""Statement queries as data: parameters in, a ``StatementQuery`` out (Communication 2.1.3).

Parsing is pure so every rule of the GET table (unknown parameters, parameter combinations,
booleans, the ``more`` cursor) is tested without a server.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from lrs.core import statements as st
from lrs.core.agents import ifi_string
from lrs.core.timefmt import to_ms
from lrs.core.versions import V103
from lrs.errors import BadRequest, FieldError, invalid, uuid_parameter
from schemas.fields import MAX_BIGINT
from schemas.jsoninput import JsonInputError, read_json

PARAMETERS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
    }
)
SINGLE_PARAMETERS = frozenset({"statementId", "voidedStatementId", "attachments", "format"})
FORMATS = ("exact", "ids", "canonical")
MAX_LIMIT = 500
#: A ``more`` token holds the query's parameters and a position: a few hundred bytes.
MAX_MORE_BYTES = 16 * 1024
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class Term:
    """One index condition: the statement has ``key``; if ``direct``, as actor/object itself."""

    key: int
    direct: bool


@dataclass
class StatementQuery:
    """A parsed GET on the Statement Resource."""

    statement_id: str | None = None
    voided: bool = False
    terms: list[Term] = field(default_factory=list)
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int = DEFAULT_LIMIT
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    cursor: tuple[int, int] | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        return self.statement_id is not None


def _bool(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if value in ("true", "false"):
        return value == "true"
    raise BadRequest(f"{name}: must be true or false", [FieldError(name, "must be true or false")])


def _iri(params: Mapping[str, str], name: str) -> str:
    """XAPI-00012: verb and activity parameters must be IRIs."""
    from schemas.fields import is_iri

    if not is_iri(params[name]):
        raise _fail(name, "must be a valid IRI")
    return params[name]


def _fail(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", [FieldError(name, message)])


def parse_statement_query(params: Mapping[str, str], version: str) -> StatementQuery:
    """Parse the query parameters of GET /statements.

    Raises BadRequest for unknown parameters (Communication 3.2: 400 for unrecognised or
    miscased parameters), for statementId with voidedStatementId or with any filter
    (Communication 2.1.3), and for malformed values.
    """
    from schemas.fields import parse_timestamp
    from schemas.xapi import StatementValidationError, validate_agent

    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}",
            [FieldError(name, "unknown parameter") for name in unknown],
        )
    query = StatementQuery(params=dict(params))
    query.format = params.get("format", "exact")
    if query.format not in FORMATS:
        raise _fail("format", "must be one of ids, exact, canonical")
    query.attachments = _bool(params, "attachments")

    if "statementId" in params or "voidedStatementId" in params:
        if "statementId" in params and "voidedStatementId" in params:
            raise _fail("voidedStatementId", "may not be combined with statementId")
        extra = sorted(set(params) - SINGLE_PARAMETERS)
        if extra:
            raise _fail(extra[0], "may not be combined with statementId or voidedStatementId")
        name = "statementId" if "statementId" in params else "voidedStatementId"
        query.statement_id = uuid_parameter(params[name], name)
        query.voided = name == "voidedStatementId"
        return query

    related_agents = _bool(params, "related_agents")
    related_activities = _bool(params, "related_activities")
    query.ascending = _bool(params, "ascending")
    # Most selective filter first: the query path drives its index scan with the first term.
    if "registration" in params:
        registration = uuid_parameter(params["registration"], "registration")
        query.terms.append(Term(st.term_key(st.REGISTRATION, registration), True))
    if "activity" in params:
        _iri(params, "activity")
        query.terms.append(
            Term(st.term_key(st.ACTIVITY, params["activity"]), not related_activities)
        )
    if "agent" in params:
        try:
            agent = validate_agent(
                read_json(params["agent"], root="agent", unique_keys=version != V103),
                version,
                path="agent",
            )
        except TypeError:
            raise _fail("agent", "must be an Agent or Identified Group as JSON") from None
        except StatementValidationError as exc:
            raise invalid(exc.errors) from None
        query.terms.append(Term(st.term_key(st.AGENT, ifi_string(agent)), not related_agents))
    if "verb" in params:
        _iri(params, "verb")
        query.terms.append(Term(st.term_key(st.VERB, params["verb"]), True))
    for name in ("since", "until"):
        if name in params:
            try:
                moment = parse_timestamp(params[name], version)
            except ValueError as exc:
                raise _fail(name, str(exc) or "must be a timestamp") from None
            setattr(query, f"{name}_ms", to_ms(moment))
    if "limit" in params:
        raw = params["limit"]
        # ASCII digits only: str.isdigit() also holds for "²", which int() refuses.
        if not (raw.isascii() and raw.isdigit()):
            raise _fail("limit", "must be a non-negative integer")
        limit = int(raw) if len(raw) < 10 else MAX_LIMIT
        query.limit = MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)
    return query


def encode_more(query: StatementQuery, last: tuple[int, int]) -> str:
    """The opaque ``more`` token: the original parameters plus the position of the last row."""
    payload = json.dumps({"p": query.params, "c": list(last)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_more(token: str, version: str) -> StatementQuery:
    """Rebuild the query a ``more`` token continues; BadRequest if the token is not ours.

    Tokens are not signed, so one is read like any input: strict JSON, string parameters and
    a position of two integers that fit the BIGINT columns it is compared with.
    """
    not_ours = _fail("more", "is not a cursor issued by this LRS")
    try:
        padded = token + "=" * (-len(token) % 4)
        data = read_json(
            base64.urlsafe_b64decode(padded.encode()), root="more", max_bytes=MAX_MORE_BYTES
        )
        params = data["p"]
        stored_ms, seq = data["c"]
    except (JsonInputError, ValueError, KeyError, TypeError, binascii.Error):
        raise not_ours from None
    if (
        not isinstance(params, dict)
        or not all(isinstance(v, str) for v in params.values())
        or not all(type(x) is int and 0 <= x <= MAX_BIGINT for x in (stored_ms, seq))
    ):
        raise not_ours
    query = parse_statement_query(params, version)
    query.cursor = (stored_ms, seq)
    return query
