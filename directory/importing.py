"""Importing people and reporting lines from a CSV export of an HR system.

Columns (a header row, in any order, case and spaces ignored): ``email`` (required), ``name``,
``manager_email``, and optional identities ``github``, ``gitlab``, ``gerrit``, ``lms_account``
(with ``lms_home_page``, the LMS's address). The file is the truth for the people it names:
a person is found by e-mail and created if new; their name and manager follow the file (an
empty ``manager_email`` means nobody); identities are added, never removed. Re-importing the
same file changes nothing. People not in the file are left alone.

``plan_import`` decides every row without writing (the dry run); ``apply_import`` writes a plan.
Row numbers are the file's line numbers (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.services import identity_agent
from directory.people import EMAIL, managers
from lrs import audit
from lrs.catalogue import M_, Message, at
from lrs.core.agents import ifi_string
from lrs.errors import BadRequest, LrsError
from lrs.people.models import Identity, Person
from lrs.people.services import link_identity
from objectives.accounts import Viewer
from objectives.errors import NotAllowed
from objectives.models import ReportingLine

MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
IDENTITY_COLUMNS = {"github": "github", "gitlab": "gitlab", "gerrit": "gerrit"}
ALIASES = {
    "e_mail": "email",
    "mail": "email",
    "manager": "manager_email",
    "manager_e_mail": "manager_email",
    "lms": "lms_account",
    "lms_home": "lms_home_page",
}
#: The columns a file may have, as the refusals list them.
COLUMNS = "email, name, manager_email, github, gitlab, gerrit, lms_account, lms_home_page"
KNOWN = {"email", "name", "manager_email", "lms_account", "lms_home_page", *IDENTITY_COLUMNS}


@dataclass
class RowPlan:
    """What importing one row does: ``created``, ``updated``, ``unchanged`` or ``rejected``.

    ``reasons`` (why a row is rejected, what an update changes) are ``Message``s: English text
    the pages say in the reader's language.
    """

    row: int
    email: str
    outcome: str = "unchanged"
    reasons: list[str] = field(default_factory=list)
    name: str | None = None
    manager_email: str | None = None
    links: list[tuple[str, str, str | None]] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.outcome = "rejected"
        self.reasons = [reason]


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    #: Whether the file has a manager_email column: without one, managers are left alone.
    has_manager_column: bool = False

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    def summary(self) -> Message:
        return M_(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(rejected)s rejected",
            **self.counts(),
        )

    def lines(self) -> list[str]:
        """One line per row that changes or is refused, in file order."""
        return [
            f"row {r.row}: {r.email or '(no email)'} {r.outcome}"
            + (": " + "; ".join(r.reasons) if r.reasons else "")
            for r in self.rows
            if r.outcome != "unchanged"
        ]


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def read_csv(data: bytes | str) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (row number, {column: value}); BadRequest in plain words if unusable."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise BadRequest(
                M_("the file is larger than %(size)s MB", size=MAX_BYTES // (1024 * 1024))
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest(M_("the file is not UTF-8 text: save it as CSV UTF-8")) from None
    data = data.lstrip("\ufeff")
    if "\x00" in data:
        raise BadRequest(M_("the file is not a CSV text file"))
    sample = data[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(data), dialect)
    try:
        header = next(reader, None)
        if header is None:
            raise BadRequest(M_("the file is empty: it needs a header row with an email column"))
        columns = [_column(h) for h in header]
        if "email" not in columns:
            raise BadRequest(
                M_(
                    "the header row has no email column (columns: %(columns)s)",
                    columns=COLUMNS,
                )
            )
        unknown = [h for h, c in zip(header, columns, strict=True) if c not in KNOWN and h.strip()]
        if unknown:
            raise BadRequest(
                M_(
                    "unknown column %(column)s; columns are: %(columns)s",
                    column=repr(unknown[0]),
                    columns=COLUMNS,
                )
            )
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise BadRequest(M_("the file has more than %(max)s rows: split it", max=MAX_ROWS))
            padded = values + [""] * (len(columns) - len(values))
            rows.append(
                (
                    reader.line_num,
                    {c: v.strip() for c, v in zip(columns, padded, strict=False) if c},
                )
            )
    except csv.Error as exc:
        raise BadRequest(
            M_("row %(row)s: not readable as CSV (%(error)s)", row=reader.line_num, error=str(exc))
        ) from None
    return rows


def people_by_email(session: Session, store_id: int) -> dict[str, Person]:
    """The store's people by lower-case address: their e-mail, then their e-mail identities."""
    people = {
        p.email.lower(): p
        for p in session.scalars(
            select(Person).where(Person.store_id == store_id, Person.email.is_not(None))
        )
    }
    linked = session.execute(
        select(Identity.ifi, Person)
        .join(Person, Person.id == Identity.person_id)
        .where(Identity.store_id == store_id, Identity.ifi.startswith("mbox|mailto:"))
    ).all()
    for ifi, person in linked:
        people.setdefault(ifi.removeprefix("mbox|mailto:").lower(), person)
    return people


def plan_import(session: Session, viewer: Viewer, data: bytes | str) -> ImportPlan:
    """Decide every row of the file against the store, writing nothing (admins only)."""
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins import people"))
    store_id = viewer.store_id
    parsed = read_csv(data)
    has_manager_column = bool(parsed) and "manager_email" in parsed[0][1]
    people = people_by_email(session, store_id)
    by_id = {p.id: p for p in people.values()}
    identity_owner = dict(
        session.execute(
            select(Identity.ifi, Identity.person_id).where(Identity.store_id == store_id)
        ).all()
    )
    plans: list[RowPlan] = []
    first_row: dict[str, int] = {}
    wanted_ifis: dict[str, int] = {}
    for number, values in parsed:
        email = values.get("email", "").lower().removeprefix("mailto:")
        plan = RowPlan(row=number, email=email)
        plans.append(plan)
        if not EMAIL.match(email):
            plan.reject(at("email", M_("not an e-mail address") if email else M_("empty")))
            continue
        if email in first_row:
            plan.reject(at("email", M_("already on row %(row)s", row=first_row[email])))
            continue
        first_row[email] = number
        plan.name = values.get("name") or None
        manager = values.get("manager_email", "").lower().removeprefix("mailto:")
        if manager and not EMAIL.match(manager):
            plan.reject(
                at(
                    "manager_email",
                    M_("%(address)s is not an e-mail address", address=repr(manager)),
                )
            )
            continue
        if manager == email:
            plan.reject(at("manager_email", M_("a person cannot be their own manager")))
            continue
        plan.manager_email = manager or None
        try:
            for column, kind in IDENTITY_COLUMNS.items():
                if values.get(column):
                    plan.links.append((kind, values[column], None))
            if values.get("lms_account"):
                if not values.get("lms_home_page"):
                    raise BadRequest(
                        at("lms_account", M_("give the LMS's address in lms_home_page"))
                    )
                plan.links.append(("account", values["lms_account"], values["lms_home_page"]))
            for kind, login, home in plan.links:
                ifi = ifi_string(identity_agent(kind, login, home))
                owner = identity_owner.get(ifi)
                mine = people.get(email)
                if owner is not None and (mine is None or owner != mine.id):
                    who = by_id.get(owner)
                    raise BadRequest(
                        M_(
                            "%(kind)s %(login)s already belongs to %(email)s",
                            kind=kind,
                            login=repr(login),
                            email=who.email,
                        )
                        if who
                        else M_(
                            "%(kind)s %(login)s already belongs to another person",
                            kind=kind,
                            login=repr(login),
                        )
                    )
                if ifi in wanted_ifis:
                    raise BadRequest(
                        M_(
                            "%(kind)s %(login)s is also on row %(row)s",
                            kind=kind,
                            login=repr(login),
                            row=wanted_ifis[ifi],
                        )
                    )
                wanted_ifis[ifi] = number
        except LrsError as exc:
            plan.reject(exc.message)
            continue
    _check_managers(session, store_id, plans, people, has_manager_column)
    for plan in plans:
        if plan.outcome == "rejected":
            continue
        person = people.get(plan.email)
        if person is None:
            plan.outcome = "created"
            continue
        changes: list[str] = []
        if plan.name and plan.name != person.name:
            changes.append(M_("name %(old)s → %(new)s", old=repr(person.name), new=repr(plan.name)))
        if person.deactivated_at is not None:
            changes.append(M_("reactivated"))
        if has_manager_column:
            current = managers(session, store_id).get(person.id)
            current_email = by_id[current].email.lower() if current in by_id else None
            if current_email != plan.manager_email:
                changes.append(_manager_change(current_email, plan.manager_email))
        for kind, login, home in plan.links:
            if identity_owner.get(ifi_string(identity_agent(kind, login, home))) is None:
                changes.append(M_("%(kind)s %(login)s linked", kind=kind, login=login))
        if changes:
            plan.outcome = "updated"
            plan.reasons = changes
    return ImportPlan(plans, has_manager_column)


def _manager_change(old: str | None, new: str | None) -> Message:
    """``manager old → new``, where nobody is ``none``."""
    if not old:
        return M_("manager none → %(new)s", new=new)
    if not new:
        return M_("manager %(old)s → none", old=old)
    return M_("manager %(old)s → %(new)s", old=old, new=new)


def _check_managers(
    session: Session,
    store_id: int,
    plans: list[RowPlan],
    people: dict[str, Person],
    has_manager_column: bool,
) -> None:
    """Refuse rows whose manager is unknown, or whose reporting line would make a loop.

    Refusing a row can leave another row's manager unknown, so this runs until nothing changes.
    """
    rows_of = {p.email: p for p in plans if p.email and p.outcome != "rejected"}
    email_of = {p.id: e for e, p in people.items()}
    before: dict[str, str | None] = {
        email_of[person]: email_of.get(manager)
        for person, manager in managers(session, store_id).items()
        if person in email_of
    }
    changed = True
    while changed:
        changed = False
        ok = {p.email for p in plans if p.outcome != "rejected"}
        for plan in plans:
            manager = plan.manager_email
            if plan.outcome == "rejected" or not manager or manager in ok or manager in people:
                continue
            row = next((p.row for p in plans if p.email == manager), None)
            plan.reject(
                at(
                    "manager_email",
                    M_("%(email)s is on row %(row)s, which is rejected", email=manager, row=row)
                    if row
                    else M_("%(email)s is neither in the file nor in Learnloop", email=manager),
                )
            )
            changed = True
        if not has_manager_column:
            continue
        # The reporting lines after the import: the store's, overridden by the file's.
        final = dict(before)
        for plan in plans:
            if plan.outcome != "rejected":
                final[plan.email] = plan.manager_email
        loop = _find_loop(final)
        if loop:
            from_file = [
                rows_of[e] for e in loop if e in rows_of and rows_of[e].outcome != "rejected"
            ]
            culprit = max(from_file, key=lambda p: p.row)
            chain = " → ".join([*loop, loop[0]])
            culprit.reject(
                at(
                    "manager_email",
                    M_("the reporting line would go round in a loop (%(chain)s)", chain=chain),
                )
            )
            changed = True


def _find_loop(lines: dict[str, str | None]) -> list[str]:
    done: set[str] = set()
    for start in lines:
        path: list[str] = []
        seen: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done:
            if node in seen:
                return path[seen[node] :]
            seen[node] = len(path)
            path.append(node)
            node = lines.get(node)
        done.update(path)
    return []


def apply_import(session: Session, viewer: Viewer, plan: ImportPlan) -> None:
    """Write a plan made in the same transaction: people, names, managers, identities."""
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins import people"))
    store_id = viewer.store_id
    rows = [r for r in plan.rows if r.outcome in ("created", "updated")]
    people = people_by_email(session, store_id)
    for row in rows:
        person = people.get(row.email)
        if person is None:
            person = Person(store_id=store_id, name=row.name or "", email=row.email)
            session.add(person)
            session.flush()
            people[row.email] = person
            link_identity(session, store_id, person, {"mbox": "mailto:" + row.email}, "import")
        else:
            person.name = row.name or person.name
            person.email = person.email or row.email
        person.deactivated_at = None
    has_manager_column = plan.has_manager_column
    for row in rows:
        person = people[row.email]
        line = session.get(ReportingLine, person.id)
        if row.manager_email:
            manager_id = people[row.manager_email].id
            if line is None:
                session.add(
                    ReportingLine(store_id=store_id, person_id=person.id, manager_id=manager_id)
                )
            else:
                line.manager_id = manager_id
        elif line is not None and has_manager_column:
            session.delete(line)
        for kind, login, home in row.links:
            link_identity(session, store_id, person, identity_agent(kind, login, home), kind)
    session.flush()
    audit.record(
        session,
        "people.imported",
        store_id=store_id,
        target=audit.Target("people", "", "CSV import"),
        details=plan.counts(),
    )
