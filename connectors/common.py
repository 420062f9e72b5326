"""What the forge connectors share: requests, events, ids, payload access and statement shapes.

Pure: no Flask, no database. A connector module turns a ``WebhookRequest`` into an ``Event``
(after verifying it) and an ``Event`` into a ``Mapped`` list of statements built with
``code_review_statement``, so GitHub, GitLab and Gerrit statements have one shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connectors import profile as p
from connectors.errors import MalformedPayload
from schemas.jsoninput import JsonInputError, read_json

# Statement ids are uuid5(NAMESPACE, f"{source}:{delivery_id}:{n}"): a redelivery, a backfill
# of the same delivery and a retry all produce the same ids, which the write path treats as
# identical resends. Never change this value: stored statements would be duplicated.
NAMESPACE = uuid.UUID("93426aef-0ead-524e-81b4-51337b2c0e0e")  # uuid5(URL, w3id/learnloop/conn)


def statement_id(source: str, key: str, n: int) -> str:
    """The deterministic id of the ``n``-th statement made from delivery (or row) ``key``."""
    return str(uuid.uuid5(NAMESPACE, f"{source}:{key}:{n}"))


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery as received: headers (looked up without case), raw body, query, time."""

    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)
    received_at: float = 0.0

    @classmethod
    def of(
        cls,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
        query: Mapping[str, str] | None = None,
        received_at: float = 0.0,
    ) -> WebhookRequest:
        """Build a request; header names are folded to lower case (HTTP names ignore case)."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        return cls({k.lower(): v for k, v in items}, bytes(body), dict(query or {}), received_at)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Event:
    """A verified delivery: which source, which event, its delivery id and the parsed payload."""

    source: str
    name: str
    delivery_id: str
    payload: dict


@dataclass(frozen=True)
class Mapped:
    """The statements an event becomes; none (with a ``note`` saying why) for ignored events."""

    event: str
    delivery_id: str
    statements: list[dict]
    note: str = ""


def ignored(event: Event, note: str) -> Mapped:
    return Mapped(event.name, event.delivery_id, [], note)


# ---- Verification helpers --------------------------------------------------------------


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def same_secret(presented: str | bytes | None, expected: str | bytes) -> bool:
    """Constant-time comparison of two secrets (or signatures); False when none was presented."""
    if presented is None:
        return False
    a = presented.encode() if isinstance(presented, str) else presented
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


# ---- Parsing and payload access ---------------------------------------------------------


def parse_json_object(body: bytes, path: str = "") -> dict:
    """The body as a JSON object; MalformedPayload (400) if it is not one.

    Read strictly (``schemas.jsoninput``: bounded depth, finite numbers, no duplicate keys, no
    NUL), as everything from outside is, though the signature said who sent it.
    """
    if not body:
        raise MalformedPayload("the request body is empty; a JSON event was expected")
    try:
        data = read_json(body, root=path or "payload")
    except JsonInputError as exc:
        raise MalformedPayload(exc.message, exc.errors) from None
    if not isinstance(data, dict):
        raise MalformedPayload("the event must be a JSON object")
    return data


_MISSING = object()


def get(payload: Mapping, path: str, kind: type | tuple[type, ...] = str, *, required=True) -> Any:
    """The value at a dotted ``path`` of a payload, checked to be of ``kind``.

    Returns None for an absent or null optional value; raises MalformedPayload naming the path
    when a required value is absent or any value has the wrong type.
    """
    value: Any = payload
    for part in path.split("."):
        value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        if value is _MISSING or value is None:
            if required:
                raise MalformedPayload.at(path, "is required")
            return None
    wanted = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in wanted:
        raise MalformedPayload.at(path, f"must be a {_kind_name(wanted)}")
    if not isinstance(value, wanted):
        raise MalformedPayload.at(path, f"must be a {_kind_name(wanted)}")
    if isinstance(value, str) and required and not value.strip():
        raise MalformedPayload.at(path, "must not be empty")
    return value


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "string", int: "number", float: "number", dict: "object", list: "array"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def web_url(payload: Mapping, path: str) -> str:
    """A required absolute http(s) URL from the payload (activity ids are built from these)."""
    value = get(payload, path)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MalformedPayload.at(path, "must be an absolute http(s) URL")
    return value


def origin(url: str) -> str:
    """``https://github.com/o/r/pull/2`` -> ``https://github.com``: the forge's home page."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def timestamp(payload: Mapping, path: str) -> str:
    """A required event time, as an xAPI timestamp in UTC (``2019-05-15T15:20:38Z``)."""
    value = get(payload, path, (str, int, float))
    try:
        return format_time(parse_time(value))
    except (ValueError, OverflowError, OSError):
        raise MalformedPayload.at(path, "must be a date and time") from None


def parse_time(value: str | int | float) -> dt.datetime:
    """ISO 8601 (``Z`` or an offset), GitLab's ``2015-05-17 18:21:36 UTC`` or epoch seconds."""
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4].replace(" ", "T") + "+00:00"
    elif text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("a time zone is required")
    return parsed.astimezone(dt.UTC)


def format_time(moment: dt.datetime) -> str:
    text = moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return text.replace(".000+00:00", "Z").replace("+00:00", "Z")


def seconds_between(start: str | None, end: str | None) -> int | None:
    """Whole seconds from ``start`` to ``end`` (xAPI timestamps); None if unknown or negative."""
    if not start or not end:
        return None
    delta = int((parse_time(end) - parse_time(start)).total_seconds())
    return delta if delta >= 0 else None


def text_length(text: str | None) -> int:
    """Length of a review or comment text in code points, ignoring surrounding whitespace."""
    return len((text or "").strip())


# ---- Statement shapes ------------------------------------------------------------------


def account_agent(home_page: str, login: str, display_name: str | None = None) -> dict:
    """The fallback actor: an Account on the forge, named by its login.

    The login (GitHub login, GitLab username, Gerrit username) is what people and admins
    know and what ``learnloop people link`` takes; numeric ids would need a forge lookup
    to link. A renamed account is linked to the same person as a second identity.
    """
    return {
        "objectType": "Agent",
        "name": display_name or login,
        "account": {"homePage": home_page, "name": login},
    }


@dataclass(frozen=True)
class Change:
    """A change request (pull request, merge request, Gerrit change) as statements need it."""

    url: str
    title: str
    repository_url: str
    repository_name: str
    platform: str
    author: dict | None = None
    created_at: str | None = None
    lines_changed: int | None = None
    files: int | None = None

    def activity(self) -> dict:
        return {
            "objectType": "Activity",
            "id": self.url,
            "definition": {"type": p.PULL_REQUEST, "name": {"en": self.title}},
        }

    def repository(self) -> dict:
        return {
            "objectType": "Activity",
            "id": self.repository_url,
            "definition": {"type": p.REPOSITORY, "name": {"en": self.repository_name}},
        }


def comment_activity(url: str, title: str) -> dict:
    return {
        "objectType": "Activity",
        "id": url,
        "definition": {"type": p.REVIEW_COMMENT, "name": {"en": title}},
    }


def code_review_statement(
    *,
    source: str,
    delivery_id: str,
    n: int,
    actor: dict,
    verb: str,
    change: Change,
    when: str,
    result: dict | None = None,
    comment: dict | None = None,
    refers_to: str | None = None,
) -> dict:
    """One statement of the code-review profile about ``change``.

    The object is always the change request; the repository is the grouping, the profile
    version the category, the change's author a context agent (xAPI 2.0), a comment (if any)
    an ``other`` context activity and ``refers_to`` (a statement id) the context statement.
    """
    activities: dict = {
        "grouping": [change.repository()],
        "category": [{"objectType": "Activity", "id": p.CODE_REVIEW_V1}],
    }
    if comment is not None:
        activities["other"] = [comment]
    context: dict = {"platform": change.platform, "contextActivities": activities}
    if change.author is not None:
        context["contextAgents"] = [
            {"objectType": "contextAgent", "agent": change.author, "relevantTypes": [p.ROLE_AUTHOR]}
        ]
    extensions = {}
    if change.lines_changed is not None:
        extensions[p.EXT_LINES_CHANGED] = change.lines_changed
    if change.files is not None:
        extensions[p.EXT_FILES] = change.files
    if extensions:
        context["extensions"] = extensions
    if refers_to is not None:
        context["statement"] = {"objectType": "StatementRef", "id": refers_to}
    statement = {
        "id": statement_id(source, delivery_id, n),
        "actor": actor,
        "verb": {"id": verb, "display": {"en": p.VERB_DISPLAY[verb]}},
        "object": change.activity(),
    }
    if result:
        statement["result"] = result
    statement["context"] = context
    statement["timestamp"] = when
    return statement


def review_statements(
    *,
    source: str,
    delivery_id: str,
    actor: dict,
    change: Change,
    when: str,
    verdict: str,
    body_length: int,
    score: dict | None = None,
) -> list[dict]:
    """A review: ``reviewed`` always, then its verdict (approve / requested changes).

    Counting ``reviewed`` counts reviews; the verdict statements count approvals and change
    requests. A review without a verdict (GitHub "commented") is just ``reviewed``. The
    verdict statement refers to the ``reviewed`` one by StatementRef.
    """
    result: dict = {}
    if verdict != p.VERDICT_COMMENTED:
        result["success"] = verdict == p.VERDICT_APPROVED
    if score is not None:
        result["score"] = score
    extensions = {p.EXT_VERDICT: verdict, p.EXT_BODY_LENGTH: body_length}
    latency = seconds_between(change.created_at, when)
    if latency is not None:
        extensions[p.EXT_REVIEW_LATENCY] = latency
    common = {"source": source, "delivery_id": delivery_id, "actor": actor, "change": change}
    reviewed = code_review_statement(
        **common, n=0, verb=p.REVIEWED, when=when, result={**result, "extensions": extensions}
    )
    if verdict == p.VERDICT_COMMENTED:
        return [reviewed]
    verb = p.APPROVED if verdict == p.VERDICT_APPROVED else p.REQUESTED_CHANGES
    verdict_result = {k: v for k, v in result.items() if k in ("success", "score")}
    return [
        reviewed,
        code_review_statement(
            **common, n=1, verb=verb, when=when, result=verdict_result, refers_to=reviewed["id"]
        ),
    ]


def comment_statement(
    *,
    source: str,
    delivery_id: str,
    actor: dict,
    change: Change,
    when: str,
    comment_url: str | None,
    body: str | None,
) -> dict:
    """A comment on a change request; the comment is named but its text is not recorded."""
    comment = None
    if comment_url is not None:
        comment = comment_activity(comment_url, f"Comment on {change.title}")
    return code_review_statement(
        source=source,
        delivery_id=delivery_id,
        n=0,
        actor=actor,
        verb=p.COMMENTED,
        change=change,
        when=when,
        result={"extensions": {p.EXT_BODY_LENGTH: text_length(body)}},
        comment=comment,
    )
