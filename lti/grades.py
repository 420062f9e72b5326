"""Assignment and Grade Services (AGS): line items, scores and results of a resource link.

For other packages (``objectives/`` sends met objectives to the gradebook this way):

* ``resource_links(session, store_id, placed_activity=..., objective_template=...)`` and
  ``user_sub_for(session, link, person_id)``: find where something is placed and who a person
  is on that platform;
* ``post_score(session, link, user_sub, score_given, score_maximum, activity_progress,
  grading_progress, comment, runtime=...)``: send a score to the LMS gradebook;
* ``find_or_create_line_item``, ``line_items``, ``get_results``: AGS line items and results.

The calls go through ``lti.platform_services`` (tokens, timeouts, the SQLite caveat); the rules
they follow are in ``lti.ags``. Callers own the session and the transaction; nothing here
commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.errors import NotFound
from lrs.people import services as people
from lti import ags, explain
from lti.errors import PlatformServiceError, ServiceNotGranted
from lti.models import ResourceLink, ScoreMark, get_or_create
from lti.platform_services import MAX_PAGES, call_service, registration_of, resolve_runtime
from lti.runtime import LtiRuntime


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _require_scope(link: ResourceLink, *wanted: str) -> str:
    """The first of ``wanted`` the LMS granted with this link's launches.

    Raises ServiceNotGranted naming the service when the launches carried no AGS claim at all,
    else naming the scopes missing.
    """
    granted = set(link.ags_scopes.split())
    for scope in wanted:
        if scope in granted:
            return scope
    if not granted and not link.lineitems_url and not link.lineitem_url:
        raise ServiceNotGranted(explain.grade_service_not_granted())
    raise ServiceNotGranted(explain.scope_not_granted(wanted))


def resource_link(session: Session, store_id: int, link_pk: int) -> ResourceLink:
    link = session.get(ResourceLink, link_pk)
    if link is None or link.store_id != store_id:
        raise NotFound(f"no LTI resource link {link_pk} in this store")
    return link


def resource_links(
    session: Session,
    store_id: int,
    *,
    placed_activity: str | None = None,
    objective_template: str | None = None,
) -> list[ResourceLink]:
    """The store's resource links, optionally only those placing an activity or template."""
    query = select(ResourceLink).where(ResourceLink.store_id == store_id)
    if placed_activity is not None:
        query = query.where(ResourceLink.placed_activity == placed_activity)
    if objective_template is not None:
        query = query.where(ResourceLink.objective_template == objective_template)
    return list(session.scalars(query.order_by(ResourceLink.id)))


def user_sub_for(session: Session, link: ResourceLink, person_id: int) -> str | None:
    """The LMS user id (``sub``) of a person on the platform of this link, if known."""
    registration = registration_of(session, link.store_id, link.registration_id)
    for agent in people.identities(session, link.store_id, person_id):
        account = agent.get("account") or {}
        if account.get("homePage") == registration.issuer:
            return account.get("name")
    return None


def line_items(
    session: Session,
    link: ResourceLink,
    *,
    resource_id: str | None = None,
    tag: str | None = None,
    resource_link_id: str | None = None,
    runtime: LtiRuntime | None = None,
) -> list[dict[str, Any]]:
    """Every line item of the link's course matching the filters, following rel="next"."""
    rt = resolve_runtime(runtime)
    scope = _require_scope(link, ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY)
    if not link.lineitems_url:
        raise ServiceNotGranted(
            "the LMS's launches of this placement carry no gradebook (line items) URL, so "
            "Learnloop cannot find or create its columns"
        )
    registration = registration_of(session, link.store_id, link.registration_id)
    url: str | None = ags.with_query(
        link.lineitems_url, resource_id=resource_id, tag=tag, resource_link_id=resource_link_id
    )
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        answer = call_service(
            session,
            registration,
            [scope],
            "GET",
            url,
            what="line items service",
            accept=ags.LINEITEMS_MEDIA,
            runtime=rt,
        )
        page = answer.json()
        if not isinstance(page, list):
            raise PlatformServiceError("the LMS's line items answer is not a JSON array", 200)
        found.extend(
            item
            for item in page
            if isinstance(item, dict) and ags.matches(item, resource_id, tag, resource_link_id)
        )
        url = ags.parse_links(answer.headers.get("Link")).get("next")
    return found


def find_or_create_line_item(
    session: Session,
    link: ResourceLink,
    *,
    label: str,
    score_maximum: float,
    resource_id: str | None = None,
    tag: str | None = None,
    runtime: LtiRuntime | None = None,
) -> dict[str, Any]:
    """The course's line item with this resourceId/tag, created (decoupled model) if missing."""
    rt = resolve_runtime(runtime)
    existing = line_items(session, link, resource_id=resource_id, tag=tag, runtime=rt)
    if existing:
        return existing[0]
    _require_scope(link, ags.SCOPE_LINEITEM)
    registration = registration_of(session, link.store_id, link.registration_id)
    payload = ags.line_item_payload(
        label=label,
        score_maximum=score_maximum,
        resource_id=resource_id,
        tag=tag,
        resource_link_id=link.resource_link_id,
    )
    answer = call_service(
        session,
        registration,
        [ags.SCOPE_LINEITEM],
        "POST",
        link.lineitems_url or "",
        what="line items service",
        accept=ags.LINEITEM_MEDIA,
        runtime=rt,
        json_body=payload,
        content_type=ags.LINEITEM_MEDIA,
    )
    created = answer.json()
    if not isinstance(created, dict) or not isinstance(created.get("id"), str):
        raise PlatformServiceError(
            "the LMS created a gradebook column but gave it no id", answer.status
        )
    return created


@dataclass(frozen=True)
class ScoreCall:
    """A score ready to send: where to, as whom, and the AGS Score body."""

    store_id: int
    registration_id: int
    url: str
    line_item: str
    payload: dict[str, Any]

    @property
    def timestamp(self) -> str:
        return self.payload["timestamp"]


def prepare_score(
    session: Session,
    link: ResourceLink,
    user_sub: str,
    score_given: float | None,
    score_maximum: float | None,
    activity_progress: str = "Completed",
    grading_progress: str = "FullyGraded",
    comment: str | None = None,
    *,
    line_item_url: str | None = None,
    runtime: LtiRuntime | None = None,
) -> ScoreCall:
    """Check and stamp a score for the link's line item (or ``line_item_url``); calls nobody.

    Needs a write session. The timestamp is strictly later than every score prepared before
    for this user and line item (kept in ``lti_score_marks``), so platforms never drop it as
    stale. Raises ServiceNotGranted when the LMS has not granted the grade service or its
    score scope, or sent no line item with this placement; InvalidScore for bad values.
    """
    rt = resolve_runtime(runtime)
    _require_scope(link, ags.SCOPE_SCORE)
    target = line_item_url or link.lineitem_url
    if not target:
        raise ServiceNotGranted(explain.no_line_item(link.title))
    registration = registration_of(session, link.store_id, link.registration_id)
    # The form only: no DNS under the write lock; the call resolves and checks as it connects.
    rt.http.check(target, "lineitem", resolve=False)
    mark, created = get_or_create(
        session,
        ScoreMark,
        {
            "registration_id": registration.id,
            "lineitem_hash": _sha256(target),
            "user_id": user_sub,
        },
        {"store_id": link.store_id, "lineitem_url": target, "last_ms": 0},
    )
    timestamp_ms = ags.next_timestamp(None if created else mark.last_ms, rt.now())
    payload = ags.score_payload(
        user_id=user_sub,
        score_given=score_given,
        score_maximum=score_maximum,
        activity_progress=activity_progress,
        grading_progress=grading_progress,
        timestamp_ms=timestamp_ms,
        comment=comment,
    )
    mark.last_ms = timestamp_ms
    session.flush()
    return ScoreCall(
        link.store_id, registration.id, ags.service_url(target, "scores"), target, payload
    )


def send_score(session: Session, call: ScoreCall, *, runtime: LtiRuntime | None = None) -> int:
    """POST a prepared score to the platform; returns its HTTP status.

    A read session is enough (the tool key must exist), so no write lock is held while the
    platform answers. Raises PlatformServiceError when the platform refuses or cannot be
    reached.
    """
    rt = resolve_runtime(runtime)
    registration = registration_of(session, call.store_id, call.registration_id)
    answer = call_service(
        session,
        registration,
        [ags.SCOPE_SCORE],
        "POST",
        call.url,
        what="score service",
        accept="application/json",
        runtime=rt,
        json_body=call.payload,
        content_type=ags.SCORE_MEDIA,
    )
    return answer.status


def post_score(
    session: Session,
    link: ResourceLink,
    user_sub: str,
    *score: Any,
    runtime: LtiRuntime | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Prepare and send one score in the caller's write transaction (admin API, tests).

    Takes ``prepare_score``'s arguments. Returns ``{"line_item": url, "timestamp": iso,
    "status": http status}``; the worker uses ``prepare_score`` and ``send_score`` apart, so no
    write lock waits on the platform.
    """
    call = prepare_score(session, link, user_sub, *score, runtime=runtime, **options)
    status = send_score(session, call, runtime=runtime)
    return {"line_item": call.line_item, "timestamp": call.timestamp, "status": status}


def get_results(
    session: Session,
    link: ResourceLink,
    *,
    line_item_url: str | None = None,
    user_sub: str | None = None,
    runtime: LtiRuntime | None = None,
) -> list[dict[str, Any]]:
    """The results of a line item (all users or one), following rel="next"."""
    rt = resolve_runtime(runtime)
    _require_scope(link, ags.SCOPE_RESULT_READONLY)
    target = line_item_url or link.lineitem_url
    if not target:
        raise ServiceNotGranted(explain.no_line_item(link.title))
    registration = registration_of(session, link.store_id, link.registration_id)
    url: str | None = ags.with_query(ags.service_url(target, "results"), user_id=user_sub)
    results: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        answer = call_service(
            session,
            registration,
            [ags.SCOPE_RESULT_READONLY],
            "GET",
            url,
            what="results service",
            accept=ags.RESULTS_MEDIA,
            runtime=rt,
        )
        page = answer.json()
        if not isinstance(page, list):
            raise PlatformServiceError("the LMS's results answer is not a JSON array", 200)
        results.extend(r for r in page if isinstance(r, dict))
        url = ags.parse_links(answer.headers.get("Link")).get("next")
    return results
