"""People and reporting lines, as the admin pages, the CLI and the import change them.

Every function takes the caller's Session and the ``Viewer`` doing it, and applies the roles of
``objectives.accounts``: admins change anyone in their store; managers change their direct and
indirect reports (name, e-mail, identities, and a manager inside their own team); only admins
create and deactivate people. Someone the viewer may not see is ``Hidden`` (not found).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.services import identity_agent
from lrs import audit
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict
from lrs.people.models import Person
from lrs.people.services import find_person, identities, link_identity
from objectives.accounts import Viewer, can_manage_person, can_see_person, reports_of
from objectives.errors import Hidden, NotAllowed
from objectives.models import Account, ReportingLine

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
#: The identity kinds a person can have besides their e-mail address (connectors' names).
IDENTITY_KINDS = ("github", "gitlab", "gerrit", "account")


@dataclass(frozen=True)
class PersonRow:
    """One person as the directory lists them."""

    id: int
    name: str
    email: str | None
    manager_id: int | None
    manager_name: str
    deactivated: bool
    reports: int


def clean_email(value: str, field: str = "email") -> str:
    """The address in lower case; BadRequest in plain words when it is not one."""
    email = (value or "").strip().lower().removeprefix("mailto:")
    if not EMAIL.match(email) or len(email) > 320:
        raise BadRequest(at(field, M_("write an e-mail address like ann@example.com")))
    return email


def person_by_email(session: Session, store_id: int, email: str) -> Person | None:
    """The person with this address (their e-mail or an e-mail identity), or None."""
    person = session.scalar(
        select(Person)
        .where(Person.store_id == store_id, func.lower(Person.email) == email.lower())
        .order_by(Person.id)
        .limit(1)
    )
    return person or find_person(session, store_id, {"mbox": "mailto:" + email.lower()})


def managers(session: Session, store_id: int) -> dict[int, int]:
    """Every reporting line of the store: {person id: manager id}."""
    return dict(
        session.execute(
            select(ReportingLine.person_id, ReportingLine.manager_id).where(
                ReportingLine.store_id == store_id
            )
        ).all()
    )


def list_people(session: Session, viewer: Viewer, *, active_only: bool = False) -> list[PersonRow]:
    """The people the viewer administers: everyone (admins), or their reports (managers)."""
    query = select(Person).where(Person.store_id == viewer.store_id)
    if not viewer.is_admin:
        if viewer.person_id is None:
            return []
        query = query.where(Person.id.in_(reports_of(session, viewer.store_id, viewer.person_id)))
    if active_only:
        query = query.where(Person.deactivated_at.is_(None))
    people = list(session.scalars(query.order_by(Person.name, Person.id)))
    lines = managers(session, viewer.store_id)
    names = dict(
        session.execute(
            select(Person.id, Person.name).where(
                Person.store_id == viewer.store_id, Person.id.in_(set(lines.values()))
            )
        ).all()
    )
    counts: dict[int, int] = {}
    for manager_id in lines.values():
        counts[manager_id] = counts.get(manager_id, 0) + 1
    return [
        PersonRow(
            id=p.id,
            name=p.name,
            email=p.email,
            manager_id=lines.get(p.id),
            manager_name=names.get(lines.get(p.id), "") if lines.get(p.id) else "",
            deactivated=p.deactivated_at is not None,
            reports=counts.get(p.id, 0),
        )
        for p in people
    ]


def manageable_person(session: Session, viewer: Viewer, person_id: int) -> Person:
    """The person, if the viewer may change them (admins; their managers). Hidden otherwise."""
    person = session.get(Person, person_id)
    if person is None or person.store_id != viewer.store_id:
        raise Hidden(M_("no person %(id)s", id=person_id))
    if not can_manage_person(session, viewer, person_id):
        if can_see_person(session, viewer, person_id):
            raise NotAllowed(M_("only the person's managers and admins may change them"))
        raise Hidden(M_("no person %(id)s", id=person_id))
    return person


def manager_choices(session: Session, viewer: Viewer, person_id: int | None) -> list[Person]:
    """Who the viewer may pick as a manager: anyone active (admins), themselves and their team."""
    query = select(Person).where(
        Person.store_id == viewer.store_id, Person.deactivated_at.is_(None)
    )
    if not viewer.is_admin:
        team = reports_of(session, viewer.store_id, viewer.person_id) if viewer.person_id else set()
        query = query.where(Person.id.in_(team | {viewer.person_id or 0}))
    return [p for p in session.scalars(query.order_by(Person.name)) if p.id != person_id]


def _unique_email(session: Session, store_id: int, email: str, person_id: int | None) -> None:
    other = person_by_email(session, store_id, email)
    if other is not None and other.id != person_id:
        if other.name:
            raise Conflict(
                at("email", M_("%(name)s already has %(email)s", name=other.name, email=email))
            )
        raise Conflict(at("email", M_("another person already has %(email)s", email=email)))


def _audit(session: Session, action: str, person: Person, **details) -> None:
    audit.record(
        session,
        action,
        store_id=person.store_id,
        target=audit.Target("person", person.id, person.name or person.email or ""),
        details=details or None,
    )


def create_person(
    session: Session, viewer: Viewer, name: str, email: str, manager_id: int | None = None
) -> Person:
    """A new person with their e-mail address as an identity (admins only)."""
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins add people"))
    name = (name or "").strip()
    if not name:
        raise BadRequest(at("name", M_("write the person's name")))
    email = clean_email(email)
    _unique_email(session, viewer.store_id, email, None)
    person = Person(store_id=viewer.store_id, name=name[:300], email=email)
    session.add(person)
    session.flush()
    link_identity(session, viewer.store_id, person, {"mbox": "mailto:" + email}, "manual")
    if manager_id is not None:
        _set_manager(session, viewer, person.id, manager_id)
    _audit(session, "person.created", person, email=email, manager_id=manager_id)
    return person


def update_person(
    session: Session, viewer: Viewer, person_id: int, *, name: str, email: str
) -> Person:
    """Change a person's name and e-mail address; the new address becomes an identity too."""
    person = manageable_person(session, viewer, person_id)
    name = (name or "").strip()
    if not name:
        raise BadRequest(at("name", M_("write the person's name")))
    email = clean_email(email)
    _unique_email(session, viewer.store_id, email, person.id)
    changed = {"name": name[:300]} if name[:300] != person.name else {}
    person.name = name[:300]
    if email != (person.email or "").lower():
        person.email = changed["email"] = email
        link_identity(session, viewer.store_id, person, {"mbox": "mailto:" + email}, "manual")
    session.flush()
    if changed:
        _audit(session, "person.updated", person, **changed)
    return person


def set_manager(session: Session, viewer: Viewer, person_id: int, manager_id: int | None) -> None:
    """Make ``manager_id`` the person's manager (None: nobody). Loops are refused in words.

    Managers may move their reports only inside their own team (to themselves or one of their
    reports); removing someone's manager, or picking anyone, is for admins.
    """
    person = _set_manager(session, viewer, person_id, manager_id)
    _audit(session, "person.manager_changed", person, manager_id=manager_id)


def _set_manager(
    session: Session, viewer: Viewer, person_id: int, manager_id: int | None
) -> Person:
    person = manageable_person(session, viewer, person_id)
    if manager_id is None:
        if not viewer.is_admin:
            raise NotAllowed(M_("only admins leave a person without a manager"))
        line = session.get(ReportingLine, person.id)
        if line is not None:
            session.delete(line)
            session.flush()
        return person
    manager = session.get(Person, manager_id)
    if manager is None or manager.store_id != viewer.store_id:
        raise BadRequest(at("manager", M_("pick a person of this organisation")))
    if not viewer.is_admin:
        team = reports_of(session, viewer.store_id, viewer.person_id or 0)
        if manager.id != viewer.person_id and manager.id not in team:
            raise NotAllowed(at("manager", M_("pick yourself or someone in your team")))
    if manager.deactivated_at is not None:
        raise BadRequest(at("manager", M_("%(name)s is deactivated", name=manager.name)))
    if manager.id == person.id:
        raise BadRequest(
            at("manager", M_("%(name)s cannot be their own manager", name=person.name))
        )
    if manager.id in reports_of(session, viewer.store_id, person.id):
        raise BadRequest(
            at(
                "manager",
                M_(
                    "%(manager)s reports to %(person)s, directly or through others, "
                    "so %(person)s cannot report to %(manager)s",
                    manager=manager.name,
                    person=person.name,
                ),
            )
        )
    line = session.get(ReportingLine, person.id)
    if line is None:
        session.add(
            ReportingLine(store_id=viewer.store_id, person_id=person.id, manager_id=manager.id)
        )
    else:
        line.manager_id = manager.id
    session.flush()
    return person


def link(
    session: Session, viewer: Viewer, person_id: int, kind: str, login: str, home_page: str | None
) -> None:
    """Attach an identity (a forge login, an LMS account, another e-mail) to a person."""
    person = manageable_person(session, viewer, person_id)
    login = (login or "").strip()
    if kind not in (*IDENTITY_KINDS, "email"):
        raise BadRequest(at("kind", M_("pick GitHub, GitLab, Gerrit, an LMS account or an e-mail")))
    if not login:
        raise BadRequest(at("login", M_("write the login, account name or e-mail address")))
    if kind == "account" and not home_page:
        raise BadRequest(
            at(
                "home_page",
                M_("an LMS account needs the LMS's address, e.g. https://lms.example.com"),
            )
        )
    link_identity(session, viewer.store_id, person, identity_agent(kind, login, home_page), kind)
    _audit(session, "person.identity_linked", person, kind=kind, login=login)


def deactivate(session: Session, viewer: Viewer, person_id: int, now: dt.datetime) -> Person:
    """Mark a person as gone (admins): out of teams' new reviews, their accounts disabled.

    Their learning record and reviews are kept; reactivating brings them back, not their
    accounts (an admin enables those again).
    """
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins deactivate people"))
    person = manageable_person(session, viewer, person_id)
    if person.id == viewer.person_id:
        raise BadRequest(M_("you cannot deactivate yourself"))
    if person.deactivated_at is None:
        person.deactivated_at = now
        _audit(session, "person.deactivated", person)
    for account in session.scalars(select(Account).where(Account.person_id == person.id)):
        if account.disabled_at is None:
            account.disabled_at = now
        account.session_epoch += 1
    session.flush()
    return person


def reactivate(session: Session, viewer: Viewer, person_id: int) -> Person:
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins reactivate people"))
    person = manageable_person(session, viewer, person_id)
    if person.deactivated_at is not None:
        person.deactivated_at = None
        _audit(session, "person.reactivated", person)
    session.flush()
    return person


def person_view(session: Session, viewer: Viewer, person_id: int) -> dict:
    """A person, their manager, identities and accounts, for the person's admin page."""
    person = manageable_person(session, viewer, person_id)
    manager_id = managers(session, viewer.store_id).get(person.id)
    return {
        "person": person,
        "manager_id": manager_id,
        "identities": identities(session, viewer.store_id, person.id),
        "choices": manager_choices(session, viewer, person.id),
    }
