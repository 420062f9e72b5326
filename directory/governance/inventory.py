"""Everything that belongs to one person of one store: the single answer to "what is theirs".

The dry run of an erasure shows it, the erasure deletes or pseudonymises exactly it, and the
archive (GDPR art. 20) exports it; all three call ``inventory`` so they cannot disagree.

A person is known by their identities (mbox, account, openid…) and the e-mail address on their
person row. Statements are sorted in three groups:

- **theirs**: the actor, or the object Agent, is one of their identities. Erased with their
  index rows, facts and attachments no other statement uses; exported in the archive.
- **mentioning**: someone else's statement that names them elsewhere: as a member of a Group
  actor or object, as instructor, team member, context agent, authority, inside a
  SubStatement, or their address inside a result or context extension. Kept, with their agent
  replaced by a pseudonym (``erasure.pseudonym``).
- **referring**: someone else's statement that carries their identity only as index terms it
  inherited from a StatementRef target (Communication 2.1.3). Kept; the inherited terms go.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from directory.governance.rows import by_seq
from lrs.core.agents import IFI_KEYS, ifi_string
from lrs.core.statements import AGENT, AUTHORITY, term_key
from lrs.people.models import Person
from lrs.people.services import get_person
from lrs.sql import marks, run

#: Rows read per IN list (SQLite allows 32,766 parameters; PostgreSQL 65,535).
CHUNK = 500


@dataclass
class Inventory:
    """What belongs to one person, as row ids per kind, plus how to recognise them in JSON."""

    store_id: int
    person_id: int
    name: str
    email: str | None
    ifis: list[str]
    #: Strings that identify them wherever they appear in JSON: addresses, openids, hashes.
    needles: list[str]
    theirs: list[int] = field(default_factory=list)  # statement seqs
    mentioning: list[int] = field(default_factory=list)
    referring: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    identities: list[int] = field(default_factory=list)
    accounts: list[int] = field(default_factory=list)
    api_tokens: list[int] = field(default_factory=list)
    account_links: list[int] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    objectives: list[int] = field(default_factory=list)
    review_grants: list[int] = field(default_factory=list)  # reviews they were granted
    reporting_lines: int = 0  # their own line and those of their reports
    learning_facts: int = 0
    lti_launches: list[int] = field(default_factory=list)
    lti_memberships: list[int] = field(default_factory=list)
    lti_grade_deliveries: list[int] = field(default_factory=list)
    lti_score_marks: list[int] = field(default_factory=list)
    lti_subs: list[str] = field(default_factory=list)
    scim_users: list[int] = field(default_factory=list)
    scim_group_memberships: int = 0
    #: Queued work about them: grades (key ``…|person:<id>``, ``lti.tasks``), webhook events.
    jobs: list[int] = field(default_factory=list)

    @property
    def agent_keys(self) -> list[int]:
        """Their index keys: as an agent anywhere, and as an authority."""
        return [term_key(AGENT, i) for i in self.ifis] + [term_key(AUTHORITY, i) for i in self.ifis]

    def counts(self) -> dict[str, int]:
        """How many of each kind: what the dry run shows and the erasure record keeps."""
        return {
            "statements": len(self.theirs),
            "statements_pseudonymised": len(self.mentioning),
            "statements_unlinked": len(self.referring),
            "documents": len(self.documents),
            "identities": len(self.identities),
            "accounts": len(self.accounts),
            "api_tokens": len(self.api_tokens),
            "account_links": len(self.account_links),
            "reviews": len(self.reviews),
            "objectives": len(self.objectives),
            "review_grants": len(self.review_grants),
            "reporting_lines": self.reporting_lines,
            "learning_facts": self.learning_facts,
            "lti_launches": len(self.lti_launches),
            "lti_memberships": len(self.lti_memberships),
            "lti_grade_deliveries": len(self.lti_grade_deliveries),
            "lti_score_marks": len(self.lti_score_marks),
            "scim_users": len(self.scim_users),
            "scim_group_memberships": self.scim_group_memberships,
            "queued_jobs": len(self.jobs),
        }


def _ids(session: Session, sql: str, params: list) -> list[int]:
    return [row[0] for row in run(session, sql, params).all()]


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _contains(session: Session) -> str:
    """``position of ? in payload > 0`` in the database's words (no LIKE escaping needed)."""
    if session.get_bind().dialect.name == "postgresql":
        return "strpos(payload, ?) > 0"
    return "instr(payload, ?) > 0"


def _needles(email: str | None, agents: list[dict]) -> list[str]:
    """The identifying strings to look for inside statement JSON.

    Never an account name alone: a short LMS user id such as ``4711`` would match unrelated
    numbers (accounts are found through the index instead).
    """
    found: list[str] = []
    if email:
        found.append(email)
    for agent in agents:
        if "mbox" in agent:
            found.append(agent["mbox"].removeprefix("mailto:"))
            found.append(hashlib.sha1(agent["mbox"].encode()).hexdigest())  # noqa: S324
        for key in ("mbox_sha1sum", "openid"):
            if key in agent:
                found.append(agent[key])
    out: list[str] = []
    for needle in found:
        if needle and needle not in out:
            out.append(needle)
    return out


def is_theirs_agent(agent: object, ifis: set[str]) -> bool:
    return isinstance(agent, dict) and ifi_string(agent) in ifis


def mentions(value: object, ifis: set[str], needles: list[str]) -> bool:
    """Whether any agent of theirs, or any of their identifying strings, is in ``value``."""
    if isinstance(value, dict):
        if any(k in value for k in IFI_KEYS) and ifi_string(value) in ifis:
            return True
        return any(mentions(v, ifis, needles) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, ifis, needles) for v in value)
    if isinstance(value, str):
        lowered = value.lower()
        return any(n.lower() in lowered for n in needles)
    return False


def classify(statement: dict, ifis: set[str], needles: list[str]) -> str:
    """``theirs``, ``mentioning`` or ``referring`` (see the module's docstring)."""
    actor = statement.get("actor") or {}
    obj = statement.get("object") or {}
    if actor.get("objectType") != "Group" and is_theirs_agent(actor, ifis):
        return "theirs"
    if obj.get("objectType") == "Agent" and is_theirs_agent(obj, ifis):
        return "theirs"
    if mentions(statement, ifis, needles):
        return "mentioning"
    return "referring"


def inventory(session: Session, store_id: int, person_id: int, *, others: bool = True) -> Inventory:
    """Everything of person ``person_id`` in ``store_id``; NotFound if there is no such person.

    ``others=False`` skips the search of others' statements for their address (a scan of the
    store's statements): the archive exports only what is theirs, so it needs only the index.
    """
    person: Person = get_person(session, store_id, person_id)
    identity_rows = run(
        session,
        "SELECT id, ifi, agent FROM identities WHERE store_id = ? AND person_id = ? ORDER BY id",
        [store_id, person_id],
    ).all()
    agents = [json.loads(row[2]) for row in identity_rows]
    ifis = [row[1] for row in identity_rows]
    if person.email and f"mbox|mailto:{person.email}" not in ifis:
        ifis.append(f"mbox|mailto:{person.email}")
    # The same mailbox sent as its SHA-1 (Data 2.4.2.3: mbox_sha1sum) is the same Agent.
    for ifi in list(ifis):
        if ifi.startswith("mbox|"):
            sha1 = "mbox_sha1sum|" + hashlib.sha1(ifi[5:].encode()).hexdigest()  # noqa: S324
            if sha1 not in ifis:
                ifis.append(sha1)
    inv = Inventory(
        store_id=store_id,
        person_id=person_id,
        name=person.name,
        email=person.email,
        ifis=ifis,
        needles=_needles(person.email, agents),
        identities=[row[0] for row in identity_rows],
    )
    _statements(session, inv, others)
    _documents(session, inv)
    _objectives(session, inv)
    _lti(session, inv)
    _directory(session, inv)
    return inv


def _statements(session: Session, inv: Inventory, others: bool) -> None:
    keys = inv.agent_keys
    candidates: set[int] = set()
    for chunk in _chunks(keys):
        candidates.update(
            _ids(
                session,
                f"SELECT DISTINCT seq FROM statement_index WHERE store_id = ? "
                f"AND key IN ({marks(len(chunk))})",
                [inv.store_id, *chunk],
            )
        )
    contains = _contains(session)
    for needle in inv.needles if others else ():  # an address in an extension, a result…
        candidates.update(
            _ids(
                session,
                f"SELECT seq FROM statements WHERE store_id = ? AND {contains}",
                [inv.store_id, needle],
            )
        )
    ifis = set(inv.ifis)
    groups: dict[str, list[int]] = {"theirs": [], "mentioning": [], "referring": []}
    for chunk in _chunks(sorted(candidates)):
        for seq, payload in run(
            session,
            f"SELECT seq, payload FROM statements WHERE {by_seq(len(chunk))}",
            [*chunk, inv.store_id],
        ).all():
            groups[classify(json.loads(payload), ifis, inv.needles)].append(seq)
    inv.theirs = sorted(groups["theirs"])
    inv.mentioning = sorted(groups["mentioning"])
    inv.referring = sorted(groups["referring"])
    facts = 0
    for chunk in _chunks(inv.theirs):
        facts += run(
            session,
            f"SELECT COUNT(*) FROM learning_facts WHERE {by_seq(len(chunk))}",
            [*chunk, inv.store_id],
        ).scalar()
    inv.learning_facts = facts


def _documents(session: Session, inv: Inventory) -> None:
    """State and Agent Profile documents kept under one of their identities."""
    for chunk in _chunks(inv.ifis):
        inv.documents.extend(
            _ids(
                session,
                f"SELECT id FROM documents WHERE store_id = ? "
                f"AND agent_ifi IN ({marks(len(chunk))}) ORDER BY id",
                [inv.store_id, *chunk],
            )
        )


def _objectives(session: Session, inv: Inventory) -> None:
    s, p = inv.store_id, inv.person_id
    email = (inv.email or "").lower()
    inv.accounts = _ids(
        session,
        "SELECT id FROM accounts WHERE store_id = ? AND (person_id = ? OR email = ?) ORDER BY id",
        [s, p, email],
    )
    for chunk in _chunks(inv.accounts):
        inv.api_tokens.extend(
            _ids(
                session,
                f"SELECT id FROM api_tokens WHERE account_id IN ({marks(len(chunk))})",
                chunk,
            )
        )
        inv.account_links.extend(
            _ids(
                session,
                f"SELECT id FROM account_links WHERE account_id IN ({marks(len(chunk))})",
                chunk,
            )
        )
    inv.reviews = _ids(
        session, "SELECT id FROM reviews WHERE store_id = ? AND person_id = ? ORDER BY id", [s, p]
    )
    for chunk in _chunks(inv.reviews):
        inv.objectives.extend(
            _ids(
                session,
                f"SELECT id FROM objectives WHERE review_id IN ({marks(len(chunk))}) ORDER BY id",
                chunk,
            )
        )
    inv.review_grants = _ids(
        session, "SELECT review_id FROM review_grants WHERE person_id = ?", [p]
    )
    inv.reporting_lines = run(
        session,
        "SELECT COUNT(*) FROM reporting_lines WHERE store_id = ? "
        "AND (person_id = ? OR manager_id = ?)",
        [s, p, p],
    ).scalar()


def _lti(session: Session, inv: Inventory) -> None:
    s, p = inv.store_id, inv.person_id
    inv.lti_launches = _ids(
        session, "SELECT id FROM lti_launches WHERE store_id = ? AND person_id = ?", [s, p]
    )
    subs = {
        row[0]
        for row in run(
            session,
            "SELECT sub FROM lti_launches WHERE store_id = ? AND person_id = ? UNION "
            "SELECT user_id FROM lti_memberships WHERE store_id = ? AND person_id = ?",
            [s, p, s, p],
        ).all()
    }
    inv.lti_subs = sorted(subs)
    inv.lti_memberships = _ids(
        session, "SELECT id FROM lti_memberships WHERE store_id = ? AND person_id = ?", [s, p]
    )
    jobs = set(
        _ids(
            session,
            "SELECT id FROM jobs WHERE store_id = ? AND kind = 'grade' AND key LIKE ?",
            [s, f"%|person:{p}"],
        )
    )
    contains = _contains(session)
    for needle in inv.needles:  # a webhook event not sent yet names them (lrs.webhooks.person)
        jobs.update(
            _ids(
                session,
                f"SELECT id FROM jobs WHERE store_id = ? AND {contains}",
                [s, needle],
            )
        )
    inv.jobs = sorted(jobs)
    inv.lti_grade_deliveries = _ids(
        session, "SELECT id FROM lti_grade_deliveries WHERE store_id = ? AND person_id = ?", [s, p]
    )
    # A sub is unique only within its platform: a mark is theirs for the registration it came by.
    inv.lti_score_marks = _ids(
        session,
        "SELECT m.id FROM lti_score_marks m WHERE m.store_id = ? AND EXISTS ("
        "SELECT 1 FROM lti_launches l WHERE l.person_id = ? "
        "AND l.registration_id = m.registration_id AND l.sub = m.user_id) OR m.id IN ("
        "SELECT m2.id FROM lti_score_marks m2 JOIN lti_contexts c ON c.registration_id = "
        "m2.registration_id JOIN lti_memberships ms ON ms.context_pk = c.id "
        "AND ms.user_id = m2.user_id WHERE m2.store_id = ? AND ms.person_id = ?)",
        [s, p, s, p],
    )


def _directory(session: Session, inv: Inventory) -> None:
    s, p = inv.store_id, inv.person_id
    inv.scim_users = _ids(
        session, "SELECT id FROM scim_users WHERE store_id = ? AND person_id = ?", [s, p]
    )
    inv.scim_group_memberships = run(
        session, "SELECT COUNT(*) FROM scim_group_members WHERE person_id = ?", [p]
    ).scalar()
