"""What the CLI, the pages and /api call: find the person, erase them, describe a dry run."""

from __future__ import annotations

from sqlalchemy.orm import Session

from connectors.services import find_store
from directory.governance.archive import PARTS
from directory.governance.erasure import Erasure, erase_person, erasure_of
from directory.people import person_by_email
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, FieldError, NotFound
from lrs.models import Store
from lrs.people.models import Person
from lrs.sql import run

#: The kinds of an erasure's counts, in words, in the order people read them.
KINDS = {
    "statements": "statements as actor or object (deleted)",
    "statements_pseudonymised": "others' statements naming them (pseudonymised)",
    "statements_unlinked": "others' statements about theirs (unlinked from them)",
    "documents": "state and agent profile documents",
    "identities": "identities",
    "accounts": "accounts",
    "api_tokens": "API tokens",
    "account_links": "invitation and reset links",
    "reviews": "reviews",
    "objectives": "objectives",
    "review_grants": "reviews they were granted to review",
    "reporting_lines": "reporting lines (theirs and their reports')",
    "learning_facts": "learning facts (progress)",
    "lti_launches": "LMS launches",
    "lti_memberships": "LMS roster rows",
    "lti_grade_deliveries": "grade deliveries",
    "lti_score_marks": "score marks",
    "scim_users": "SCIM users",
    "scim_group_memberships": "SCIM group memberships",
    "queued_jobs": "grades and webhook events about them not sent yet",
}


def store_named(session: Session, name: str) -> Store:
    """The store called ``name``; NotFound saying how to create it."""
    return find_store(session, name)


def person_with_email(
    session: Session, store_id: int, email: str, *, secret: str | None = None
) -> Person:
    """The person with this address; NotFound, saying so when an erasure removed it."""
    person = person_by_email(session, store_id, email)
    if person is None:
        record = None
        if secret is not None:
            record = erasure_of(session, secret, store_id, {"mbox": f"mailto:{email}"})
        if record is not None:
            raise NotFound(
                at(
                    "email",
                    M_(
                        "%(email)s was erased from this store (erasure record %(record)s)",
                        email=email,
                        record=record,
                    ),
                )
            )
        raise NotFound(at("email", M_("nobody in this store has %(email)s", email=email)))
    return person


def confirmation_word(session: Session, store_id: int, person_id: int) -> str:
    """``email`` when the person has an address to type, else ``id``."""
    person = session.get(Person, person_id)
    if person is not None and person.email:
        return "email"
    has_mbox = run(
        session,
        "SELECT 1 FROM identities WHERE store_id = ? AND person_id = ? AND ifi LIKE ?",
        [store_id, person_id, "mbox|%"],
    ).first()
    return "email" if has_mbox else "id"


def erase(
    session: Session,
    store_id: int,
    person_id: int,
    *,
    secret: str,
    public_url: str,
    dry_run: bool,
    now_ms: int,
    confirm_email: str | None = None,
) -> Erasure:
    """Erase (or count) one person; with ``confirm_email`` it must be theirs (the page asks).

    Someone known by no address at all (an LMS account only) is confirmed by their id number.
    """
    if confirm_email is not None:
        typed = confirm_email.strip()
        if confirmation_word(session, store_id, person_id) == "id":
            confirmed = typed == str(person_id)
        else:
            found = person_by_email(session, store_id, typed) if "@" in typed else None
            confirmed = found is not None and found.id == person_id
        if not confirmed:
            message = M_("type the person's e-mail address exactly to confirm")
            raise BadRequest(at("confirm_email", message), [FieldError("confirm_email", message)])
    return erase_person(
        session,
        store_id,
        person_id,
        secret=secret,
        public_url=public_url,
        dry_run=dry_run,
        now_ms=now_ms,
    )


def kind_words(kind: str) -> str:
    """What an erasure's count counts, in words (the floors above name their own parts)."""
    part = PARTS.get(kind)
    return KINDS.get(kind) or (part.label if part else kind)


def counts_in_words(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(kind_words(k), v) for k, v in counts.items()]
