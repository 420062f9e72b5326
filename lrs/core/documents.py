"""The Document Resources as pure rules: parameters, ETags, preconditions, JSON merge.

State (Communication 2.3; 9274.1.1 §4.1.6.2), Agent Profile (2.6; §4.1.6.5) and Activity Profile
(2.7; §4.1.6.6) share one model: a document is arbitrary bytes with a content type, identified by
a ``stateId``/``profileId`` within a scope (activity + agent [+ registration], an agent, or an
activity). The versions differ only in their concurrency rules (Communication 3.1; 9274.1.1
§4.1.4; delta C2-C7), which :func:`check_write` states in one place.

Everything here is data in, data out: no Flask, no database. Errors are ``lrs.errors`` values.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lrs.core.agents import ifi_string
from lrs.core.timefmt import to_ms
from lrs.core.versions import V103, V200
from lrs.errors import BadRequest, Conflict, FieldError, PreconditionFailed, invalid, uuid_parameter
from schemas.jsoninput import JsonInputError, read_json

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"

JSON_MEDIA_TYPE = "application/json"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# A document id is an opaque string, but it is a column of the unique index: PostgreSQL's B-tree
# refuses index rows above ~2.7 kB, so longer ids are refused as a 400 instead of a 500.
MAX_ID_BYTES = 1024


@dataclass(frozen=True)
class Resource:
    """What distinguishes the three Document Resources: their parameters and their name."""

    kind: str
    name: str
    id_param: str
    scope_params: tuple[str, ...]
    optional_params: tuple[str, ...] = ()
    multi_delete: bool = False

    def parameters(self, method: str) -> frozenset[str]:
        """The parameters a request with this method may carry (Communication 2.3, 2.6, 2.7)."""
        names = {*self.scope_params, *self.optional_params, self.id_param}
        if method in ("GET", "HEAD"):
            # ``since`` belongs to the id list; with an id it is accepted and has no effect
            # (the CTS notes on XAPI-00192: no requirement to react to it).
            names.add("since")
        return frozenset(names)


STATE_RESOURCE = Resource(
    STATE,
    "State",
    "stateId",
    ("activityId", "agent"),
    optional_params=("registration",),
    multi_delete=True,
)
ACTIVITY_PROFILE_RESOURCE = Resource(
    ACTIVITY_PROFILE, "Activity Profile", "profileId", ("activityId",)
)
AGENT_PROFILE_RESOURCE = Resource(AGENT_PROFILE, "Agent Profile", "profileId", ("agent",))


@dataclass(frozen=True)
class Scope:
    """Where a document lives: its resource plus activity, agent IFI and registration.

    A State stored with a registration and one stored without are in different scopes; the id
    list and the multiple DELETE of a State request without ``registration`` address the
    documents stored without one (Communication 2.3: "this context (Activity + Agent
    [+ registration if specified])").
    """

    kind: str
    activity_id: str | None = None
    agent_ifi: str | None = None
    registration: str | None = None

    @property
    def key(self) -> str:
        """A fixed-size key for the scope (SHA-256 hex), whatever the length of an IRI."""
        parts = [self.kind, self.activity_id or "", self.agent_ifi or "", self.registration or ""]
        text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DocumentRequest:
    """A parsed request on a Document Resource. ``document_id`` is None for id lists."""

    resource: Resource
    scope: Scope
    document_id: str | None
    since_ms: int | None = None


def _fail(name: str, message: str) -> BadRequest:
    return BadRequest(f"{name}: {message}", [FieldError(name, message)])


def parse_request(
    resource: Resource, method: str, params: Mapping[str, Sequence[str]], version: str
) -> DocumentRequest:
    """Parse the query parameters of a request on ``resource``.

    ``params`` maps each name to every value given for it. Raises BadRequest for unknown or
    miscased parameters (Communication 3.2), a parameter given twice, a missing required one
    (activityId, agent, stateId/profileId; the id is optional for GET and for a State DELETE),
    an agent that is not an Agent or Identified Group as JSON, an activityId that is not an IRI,
    a registration that is not a UUID and a ``since`` that is not a Timestamp.
    """
    from schemas.fields import parse_timestamp
    from schemas.xapi import StatementValidationError, validate_activity_id, validate_agent

    allowed = resource.parameters(method)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r} for the {resource.name} Resource",
            [FieldError(name, "unknown parameter") for name in unknown],
        )
    repeated = sorted(name for name, values in params.items() if len(values) != 1)
    if repeated:
        raise _fail(repeated[0], "given more than once")
    values = {name: values[0] for name, values in params.items()}

    required = list(resource.scope_params)
    if method in ("PUT", "POST") or (method == "DELETE" and not resource.multi_delete):
        required.append(resource.id_param)
    missing = [name for name in required if name not in values]
    if missing:
        raise BadRequest(
            f"{missing[0]}: required by the {resource.name} Resource",
            [FieldError(name, "required") for name in missing],
        )

    activity_id = None
    if "activityId" in values:
        try:
            activity_id = validate_activity_id(values["activityId"])
        except StatementValidationError as exc:
            raise invalid(exc.errors) from None
    agent_ifi = None
    if "agent" in values:
        agent: Any = read_json(values["agent"], root="agent", unique_keys=version != V103)
        try:
            validate_agent(agent, version, path="agent")
        except StatementValidationError as exc:
            raise invalid(exc.errors) from None
        agent_ifi = ifi_string(agent)
    registration = None
    if "registration" in values:
        registration = uuid_parameter(values["registration"], "registration")
    document_id = values.get(resource.id_param)
    if document_id is not None:
        if document_id == "":
            raise _fail(resource.id_param, "must not be empty")
        if len(document_id.encode("utf-8")) > MAX_ID_BYTES:
            raise _fail(resource.id_param, f"must be at most {MAX_ID_BYTES} bytes long")
    since_ms = None
    if "since" in values:
        try:
            since_ms = to_ms(parse_timestamp(values["since"], version))
        except ValueError as exc:
            raise _fail("since", str(exc) or "must be a Timestamp") from None
    scope = Scope(resource.kind, activity_id, agent_ifi, registration)
    return DocumentRequest(resource, scope, document_id, since_ms)


# ---------------------------------------------------------------------------------------------
# ETags and preconditions (Communication 3.1; 9274.1.1 §4.1.4; RFC 7232)
# ---------------------------------------------------------------------------------------------


def etag_of(content: bytes) -> str:
    """The ETag of a document: its SHA-1 in lower-case hex, quoted (Communication 3.1)."""
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


ANY = "*"
_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)|\s*([^,\s]+)\s*(?:,|$)|\s*,')


@dataclass(frozen=True)
class EntityTag:
    """One entity tag of an If-Match / If-None-Match list."""

    opaque: str
    weak: bool = False


def parse_etags(header: str | None, name: str = "If-Match") -> list[EntityTag] | str | None:
    """The tags of an If-Match / If-None-Match header: None if absent, ``ANY`` for ``*``.

    Tags are normally quoted; an unquoted token is read as the tag it would quote, because
    clients that compute the header themselves often forget the quotes. BadRequest if the value
    is not a list of tags.
    """
    if header is None:
        return None
    if header.strip() == ANY:
        return ANY
    tags: list[EntityTag] = []
    position = 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None or match.end() == position:
            raise _fail(name, "is not a list of entity tags")
        weak, quoted, bare = match.groups()
        if quoted is not None:
            tags.append(EntityTag(quoted, weak is not None))
        elif bare is not None:
            tags.append(EntityTag(bare.strip('"')))
        position = match.end()
    if not tags:
        raise _fail(name, "is not a list of entity tags")
    return tags


@dataclass(frozen=True)
class Conditions:
    """The precondition headers of a request; a blank header counts as absent."""

    if_match: str | None = None
    if_none_match: str | None = None

    def __post_init__(self) -> None:
        for name in ("if_match", "if_none_match"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                object.__setattr__(self, name, None)

    @property
    def any(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


class Outcome(enum.Enum):
    """What the preconditions of a request decide."""

    PROCEED = "proceed"
    NOT_MODIFIED = "not_modified"


def _opaque(etag: str) -> str:
    return etag[1:-1] if len(etag) >= 2 and etag[0] == etag[-1] == '"' else etag


def evaluate(method: str, current_etag: str | None, conditions: Conditions) -> Outcome:
    """Evaluate If-Match then If-None-Match against the stored document (RFC 7232 §3.1-3.2, §6).

    ``current_etag`` is the stored document's ETag, None when there is none. If-Match compares
    strongly (a weak tag never matches), If-None-Match weakly. Raises PreconditionFailed (412)
    when a condition fails, except that a failing If-None-Match on GET/HEAD answers
    NOT_MODIFIED (304).
    """
    current = None if current_etag is None else _opaque(current_etag)
    if_match = parse_etags(conditions.if_match, "If-Match")
    if if_match is not None:
        if current is None:
            raise PreconditionFailed(
                "If-Match: no document exists, so no ETag can match",
                [FieldError("If-Match", "the document does not exist")],
            )
        if if_match != ANY and not any(
            not tag.weak and tag.opaque == current for tag in _tags(if_match)
        ):
            raise PreconditionFailed(
                "If-Match: the document has changed; GET it again for its current ETag",
                [FieldError("If-Match", "does not match the document's current ETag")],
            )
    if_none_match = parse_etags(conditions.if_none_match, "If-None-Match")
    if if_none_match is not None and current is not None:
        matched = if_none_match == ANY or any(tag.opaque == current for tag in _tags(if_none_match))
        if matched:
            if method in ("GET", "HEAD"):
                return Outcome.NOT_MODIFIED
            raise PreconditionFailed(
                "If-None-Match: the document already exists"
                if if_none_match == ANY
                else "If-None-Match: the document's current ETag is in the list",
                [FieldError("If-None-Match", "a matching document exists")],
            )
    return Outcome.PROCEED


def _tags(value: list[EntityTag] | str) -> list[EntityTag]:
    return value if isinstance(value, list) else []


def check_write(
    version: str, kind: str, method: str, current_etag: str | None, conditions: Conditions
) -> None:
    """Decide whether a PUT, POST or DELETE of one document may proceed; raise if not.

    * If-Match / If-None-Match are honoured on PUT, POST and DELETE in both versions: 412 and
      no change when they fail (Communication 3.1 MUST for PUT, SHOULD* for POST/DELETE;
      9274.1.1 §4.1.4 SHALL for all three, delta C3, C6).
    * A PUT with neither header on an existing document: 409 with an explanation (Communication
      3.1; delta C4) on both profiles in both versions, and on the State in 2.0.0 only: 1.0.3
      lets State writes go without concurrency headers ("state conflicts are unlikely").
    * A PUT with neither header on a new profile document: 400 in 1.0.3 (the client MUST send a
      header; CTS XAPI-00273 and the Activity Profile "fails without ETag header"), accepted in
      2.0.0 where that test is gone (delta C5).
    * POST and DELETE need no header (delta C5: the CTS expects 204 for header-less ones).
    """
    evaluate(method, current_etag, conditions)
    if method != "PUT" or conditions.any:
        return
    if version == V103 and kind == STATE:
        return
    if current_etag is not None:
        raise Conflict(
            "the document already exists and the PUT carries neither If-Match nor If-None-Match; "
            "check the document's current state (GET it), then PUT again with If-Match set to "
            "its ETag",
            [FieldError("If-Match", "required to replace an existing document")],
        )
    if version == V103 and kind != STATE:
        raise BadRequest(
            "a PUT on a profile document needs an If-Match or If-None-Match header; send "
            "If-None-Match: * to create it (Communication 3.1)",
            [FieldError("If-None-Match", "required: If-Match or If-None-Match")],
        )


# ---------------------------------------------------------------------------------------------
# Content types and the JSON merge (Communication 2.2 "JSON Procedure with Requirements")
# ---------------------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type value, lower-case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    return media_type(content_type) == JSON_MEDIA_TYPE


def parse_json_object(content: bytes, what: str, unique_keys: bool = True) -> dict[str, Any]:
    """The JSON object a document holds; BadRequest if it is not one.

    Read strictly (``schemas.jsoninput``): UTF-8, finite numbers, bounded depth, no NUL.
    """
    try:
        value = read_json(content, root="document", unique_keys=unique_keys)
    except JsonInputError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc.message}", exc.errors) from None
    if not isinstance(value, dict):
        raise BadRequest(
            f"{what} is not a JSON object", [FieldError("document", "must be a JSON object")]
        )
    return value


def check_posted(content: bytes, content_type: str, version: str = V200) -> dict[str, Any] | None:
    """Check a POSTed document before any storage is touched; return its object if JSON.

    A POST declared ``application/json`` must hold a JSON object, whether or not a document
    exists (Communication 2.2; CTS XAPI-00314: invalid JSON with that type is a 400). Duplicate
    keys are refused under 2.0.0 and, as 1.0.3 clients may send them, kept (the last) under 1.0.3.
    """
    if is_json(content_type):
        return parse_json_object(content, "the posted document", unique_keys=version != V103)
    return None


def check_put(version: str, content: bytes, content_type: str) -> None:
    """Check a PUT document against its declared type.

    1.0.3 (Communication 3.2, SHOULD*): a body that is not what its ``application/json`` type
    says is a 400. 9274.1.1 dropped that rule (delta C16), so 2.0.0 stores any bytes under any
    type.
    """
    if version != V103 or not is_json(content_type):
        return
    try:
        read_json(content, root="document", unique_keys=False)
    except JsonInputError as exc:
        raise BadRequest(
            f"the document is declared application/json but is not valid JSON: {exc.message}",
            exc.errors,
        ) from None


def merge(
    stored: bytes, stored_type: str, posted: dict[str, Any] | None, posted_type: str
) -> bytes:
    """The document a POST leaves in place of ``stored`` (Communication 2.2 merge procedure).

    Both documents must be ``application/json`` JSON objects, else BadRequest (400) and the
    stored document stays as it is. Top-level properties of the posted object replace those of
    the stored one, whole; the rest are kept.
    """
    if posted is None:
        raise BadRequest(
            "a document exists here; a POST merges into it only with an application/json object "
            f"(got {media_type(posted_type) or 'no content type'}); use PUT to replace it",
            [FieldError("Content-Type", "must be application/json to merge")],
        )
    if not is_json(stored_type):
        raise BadRequest(
            f"the stored document is {media_type(stored_type) or 'untyped'}, not application/json,"
            " so a POST cannot merge into it; use PUT to replace it",
            [FieldError("document", "the stored document is not application/json")],
        )
    merged = parse_json_object(stored, "the stored document", unique_keys=False)
    merged.update(posted)
    return json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def next_updated_ms(now_ms: int, previous_ms: int | None) -> int:
    """The ``updated`` time of a write: now, but always later than the previous value.

    So ``since`` never misses a change and Last-Modified never goes backwards when the clock does.
    """
    if previous_ms is None:
        return now_ms
    return max(now_ms, previous_ms + 1)
