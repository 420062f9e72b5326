"""Names and Role Provisioning Services (NRPS): a course's roster, and its members as people.

``sync_roster(session, context, runtime=...)`` fetches every member and makes each a person
with their LMS account and email identities. To keep SQLite's write lock short, the views fetch
in a read transaction (``fetch_roster``, HTTP only) and then apply in a write transaction
(``apply_roster``, database only). With ``use_differences`` and the ``rel="differences"`` link
of an earlier full sync, only the changes are fetched. The calls go through
``lti.platform_services``; the rules they follow are in ``lti.nrps``. Callers own the session
and the transaction; nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.people import services as people
from lti import ags, explain, nrps
from lti import claims as c
from lti import statements as st
from lti.errors import ServiceNotGranted
from lti.launches import person_for_lms_user
from lti.models import Context, Membership, RosterLoad
from lti.platform_services import MAX_PAGES, call_service, registration_of, resolve_runtime
from lti.runtime import LtiRuntime


@dataclass
class RosterFetch:
    """Members fetched from NRPS, before they are applied."""

    members: list[nrps.Member]
    differences_url: str | None
    pages: int
    used_differences: bool
    resource_link_id: str | None = None


@dataclass(frozen=True)
class RosterSync:
    members: int
    people_created: int
    deleted: int
    pages: int
    used_differences: bool


def fetch_roster(
    session: Session,
    context: Context,
    *,
    resource_link_id: str | None = None,
    use_differences: bool = False,
    limit: int | None = None,
    runtime: LtiRuntime | None = None,
) -> RosterFetch:
    """Every page of the course's membership (or of one resource link with ``rlid``).

    With ``use_differences`` and a ``rel="differences"`` link from an earlier full sync, only
    the changes since then are fetched.
    """
    rt = resolve_runtime(runtime)
    if not context.memberships_url:
        raise ServiceNotGranted(explain.roster_service_not_granted())
    registration = registration_of(session, context.store_id, context.registration_id)
    differences = use_differences and bool(context.differences_url)
    base = context.differences_url if differences else context.memberships_url
    url: str | None = ags.with_query(base or "", rlid=resource_link_id, limit=limit)
    members: list[nrps.Member] = []
    next_differences = None
    pages = 0
    for _ in range(MAX_PAGES):
        if url is None:
            break
        answer = call_service(
            session,
            registration,
            [nrps.SCOPE],
            "GET",
            url,
            what="names and roles service",
            accept=nrps.MEDIA,
            runtime=rt,
        )
        pages += 1
        _, page = nrps.parse_page(answer.json())
        members.extend(page)
        links = ags.parse_links(answer.headers.get("Link"))
        next_differences = links.get("differences") or next_differences
        url = links.get("next")
    return RosterFetch(members, next_differences, pages, differences, resource_link_id)


def apply_roster(
    session: Session, context: Context, fetched: RosterFetch, now_ms: int
) -> RosterSync:
    """Store the members and link each to a person (LMS account and email identities)."""
    registration = registration_of(session, context.store_id, context.registration_id)
    created = deleted = 0
    for member in fetched.members:
        row = session.scalar(
            select(Membership).where(
                Membership.context_pk == context.id, Membership.user_id == member.user_id
            )
        )
        if row is None:
            row = Membership(
                store_id=context.store_id, context_pk=context.id, user_id=member.user_id
            )
            session.add(row)
        row.status = member.status
        row.updated_ms = now_ms
        if member.status == "Deleted":
            deleted += 1
            session.flush()
            continue
        row.roles = json.dumps(list(member.roles))
        row.name = (member.display_name or row.name or "")[:300]
        row.email = member.email or row.email
        account = st.lms_agent(registration.issuer, member.user_id)
        known = people.find_person(session, context.store_id, account) or (
            member.email
            and people.find_person(session, context.store_id, st.email_agent(member.email))
        )
        person = person_for_lms_user(
            session,
            context.store_id,
            registration.issuer,
            member.user_id,
            member.display_name,
            member.email,
        )
        created += not known
        row.person_id = person.id
        session.flush()
    if fetched.resource_link_id is None:
        if fetched.differences_url:
            context.differences_url = fetched.differences_url
        context.roster_synced_ms = now_ms
    session.flush()
    return RosterSync(
        members=len(fetched.members),
        people_created=created,
        deleted=deleted,
        pages=fetched.pages,
        used_differences=fetched.used_differences,
    )


def sync_roster(
    session: Session,
    context: Context,
    *,
    resource_link_id: str | None = None,
    use_differences: bool = False,
    runtime: LtiRuntime | None = None,
) -> RosterSync:
    """Fetch the course's members from NRPS and make each a person with identities."""
    rt = resolve_runtime(runtime)
    fetched = fetch_roster(
        session,
        context,
        resource_link_id=resource_link_id,
        use_differences=use_differences,
        runtime=rt,
    )
    return apply_roster(session, context, fetched, rt.now())


def roster(session: Session, context_pk: int) -> list[Membership]:
    """The course's members as last synced, learners first, then by name."""
    rows = list(
        session.scalars(
            select(Membership)
            .where(Membership.context_pk == context_pk, Membership.status != "Deleted")
            .order_by(Membership.name, Membership.user_id)
        )
    )
    return sorted(rows, key=lambda m: c.LEARNER not in json.loads(m.roles or "[]"))


def log_sync(
    session: Session,
    store_id: int,
    registration_id: int,
    context_pk: int | None,
    now_ms: int,
    *,
    members: int = 0,
    failure: str | None = None,
) -> None:
    """Write one roster load to the roster log (the connection check shows it)."""
    session.add(
        RosterLoad(
            store_id=store_id,
            registration_id=registration_id,
            context_pk=context_pk,
            outcome="failed" if failure else "loaded",
            members=members,
            answer=(failure or f"{members} members")[:500],
            created_ms=now_ms,
        )
    )
