"""Assignment and Grade Services 2.0: URLs, media types, scores, paging (AGS 2.0 §3).

Pure. The HTTP calls are in ``lti.grades``; here are the rules they follow.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lti.errors import InvalidScore

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
RESULTS_MEDIA = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")


def service_url(lineitem_url: str, service: str) -> str:
    """``{lineitem}/scores`` or ``/results``, inserted before the query string.

    Moodle's line item URLs carry ``?type_id=N``; appending after the query would address a
    different resource.
    """
    parts = urlsplit(lineitem_url)
    path = parts.path.rstrip("/") + "/" + service
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def with_query(url: str, **params: str | int | None) -> str:
    """``url`` with these query parameters added (replacing same-named ones)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*(?:"([^"]*)"|([^;,\s]+))')


def parse_links(header: str | None) -> dict[str, str]:
    """The ``Link`` header (RFC 8288) as {rel: url}; relations may be quoted or space-separated."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        url, params = match.group(1).strip(), match.group(2)
        for name, quoted, bare in _PARAM.findall(params):
            if name.lower() == "rel":
                for rel in (quoted or bare).split():
                    links.setdefault(rel.lower(), url)
    return links


def format_timestamp(moment: dt.datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as AGS requires."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def next_timestamp(last_ms: int | None, now_ms: int) -> int:
    """A score timestamp after every earlier one for this user and line item.

    Platforms ignore or reject a score whose timestamp is not later than the last one they
    accepted, so two scores in the same millisecond (or a clock step back) would be lost.
    """
    if last_ms is None or now_ms > last_ms:
        return now_ms
    return last_ms + 1


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidScore(f"{name} must be a finite number")
    return value


def score_payload(
    *,
    user_id: str,
    score_given: float | None,
    score_maximum: float | None,
    activity_progress: str,
    grading_progress: str,
    timestamp_ms: int,
    comment: str | None = None,
    started_at: dt.datetime | None = None,
    submitted_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Score (AGS 2.0 §3.4): checked, with the timestamp formatted."""
    if not user_id:
        raise InvalidScore("userId is required")
    if activity_progress not in ACTIVITY_PROGRESS:
        raise InvalidScore("activityProgress must be one of " + ", ".join(ACTIVITY_PROGRESS))
    if grading_progress not in GRADING_PROGRESS:
        raise InvalidScore("gradingProgress must be one of " + ", ".join(GRADING_PROGRESS))
    payload: dict[str, Any] = {
        "userId": user_id,
        "activityProgress": activity_progress,
        "gradingProgress": grading_progress,
        "timestamp": format_timestamp(dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC)),
    }
    if score_given is not None:
        given = _number("scoreGiven", score_given)
        if score_maximum is None:
            raise InvalidScore("scoreMaximum is required with scoreGiven")
        maximum = _number("scoreMaximum", score_maximum)
        if given < 0:
            raise InvalidScore("scoreGiven must not be negative")
        if maximum <= 0:
            raise InvalidScore("scoreMaximum must be above 0")
        payload["scoreGiven"] = given
        payload["scoreMaximum"] = maximum
    if comment:
        payload["comment"] = comment
    submission = {}
    if started_at is not None:
        submission["startedAt"] = format_timestamp(started_at)
    if submitted_at is not None:
        submission["submittedAt"] = format_timestamp(submitted_at)
    if submission:
        payload["submission"] = submission
    return payload


def line_item_payload(
    *,
    label: str,
    score_maximum: float,
    resource_id: str | None = None,
    tag: str | None = None,
    resource_link_id: str | None = None,
) -> dict[str, Any]:
    """A new line item (AGS 2.0 §3.2)."""
    if not label:
        raise InvalidScore("a line item needs a label")
    item: dict[str, Any] = {"label": label, "scoreMaximum": _number("scoreMaximum", score_maximum)}
    if item["scoreMaximum"] <= 0:
        raise InvalidScore("scoreMaximum must be above 0")
    for key, value in (
        ("resourceId", resource_id),
        ("tag", tag),
        ("resourceLinkId", resource_link_id),
    ):
        if value:
            item[key] = value
    return item


def matches(
    item: dict[str, Any],
    resource_id: str | None = None,
    tag: str | None = None,
    resource_link_id: str | None = None,
) -> bool:
    """Whether a line item has the given resourceId, tag and resourceLinkId (those given)."""
    return (
        (resource_id is None or item.get("resourceId") == resource_id)
        and (tag is None or item.get("tag") == tag)
        and (resource_link_id is None or item.get("resourceLinkId") == resource_link_id)
    )
