"""Accounts, passwords, API tokens and who an account is allowed to see (its roles).

Roles: admin (the whole store), manager (their direct and indirect reports), reviewer (the
reviews granted to them), learner (themselves). Passwords use scrypt like credential secrets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from lrs import audit
from lrs.auth import hash_secret, verify_secret
from lrs.catalogue import M_, at
from lrs.db import read_transaction
from lrs.errors import BadRequest, Conflict
from lrs.models import Store
from lrs.throttle import Throttle, counters
from objectives.errors import NotSignedIn
from objectives.models import Account, ApiToken, ReportingLine, Review, ReviewGrant


@dataclass(frozen=True)
class Viewer:
    """The signed-in account as authorization sees it."""

    account_id: int
    store_id: int
    person_id: int | None
    is_admin: bool


def create_account(
    session: Session,
    store_id: int,
    email: str,
    password: str | None,
    *,
    person_id: int | None = None,
    is_admin: bool = False,
    audit_action: str | None = "account.created",
) -> Account:
    """A new account of the store; Conflict if the address has one already.

    ``audit_action``: the audit event it leaves (``account.invited`` for an invitation; None for
    the password-less account a person's first LMS launch makes, which no administrator did).
    """
    email = email.strip().lower()
    if password is not None and len(password) < 12:
        raise BadRequest(at("password", M_("must have at least 12 characters")))
    if session.scalar(
        select(Account.id).where(Account.store_id == store_id, Account.email == email)
    ):
        raise Conflict(M_("an account for %(email)s already exists", email=email))
    account = Account(
        store_id=store_id,
        email=email,
        password_hash=hash_secret(password) if password else None,
        person_id=person_id,
        is_admin=is_admin,
    )
    session.add(account)
    session.flush()
    if audit_action:
        audit.record(
            session,
            audit_action,
            store_id=store_id,
            target=account_target(account),
            details={"admin": is_admin, "person_id": person_id},
        )
    return account


def account_target(account: Account) -> audit.Target:
    return audit.Target("account", account.id, account.email)


def sign_in(session: Session, store_id: int, email: str, password: str) -> Account:
    """The account for these credentials; NotSignedIn with one message for every failure."""
    account = session.scalar(
        select(Account).where(Account.store_id == store_id, Account.email == email.strip().lower())
    )
    stored = account.password_hash if account else None
    # Verify against a dummy hash when the account is unknown, so timing does not tell.
    ok = verify_secret(password, stored or _DUMMY_HASH)
    if account is None or stored is None or not ok or account.disabled_at is not None:
        raise NotSignedIn(M_("unknown email or wrong password"))
    return account


_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def verify_password(
    sessions: sessionmaker[Session],
    throttle: Throttle | None,
    store_name: str,
    email: str,
    password: str,
    address: str | None,
) -> int:
    """The account id that these credentials sign in to, for the pages and ``POST /api/tokens``.

    NotSignedIn (401) with one message for every failure, at the same cost (an unknown
    organisation or email verifies a dummy hash); TooManyAttempts (429) once the account, or the
    account from this address, or this address failed too often (``lrs.throttle``), before any
    hash is computed. Failures are counted in their own transaction, so they stick.
    """
    counted = counters("account", f"{store_name}/{email.strip().lower()}", address)
    if throttle:
        throttle.check(counted)
    with read_transaction(sessions) as session:
        store_id = session.scalar(select(Store.id).where(Store.name == store_name))
        try:
            account_id = sign_in(session, store_id or 0, email, password).id
        except NotSignedIn:
            account_id = None
    if account_id is None:
        if throttle:
            throttle.failed(counted)
        raise NotSignedIn(M_("unknown email or wrong password"))
    if throttle:
        throttle.succeeded(counted)
    return account_id


#: How long a pages' sign-in lasts, however active; then the person signs in again.
SESSION_LIFETIME = dt.timedelta(hours=12)


def session_fields(account: Account, now: dt.datetime) -> dict:
    """What a pages' session cookie holds for a sign-in (signed by the app, not secret)."""
    return {"account_id": account.id, "epoch": account.session_epoch, "at": int(now.timestamp())}


def session_account(
    session: Session, cookie: Mapping, now: dt.datetime, lifetime: dt.timedelta = SESSION_LIFETIME
) -> Account | None:
    """The account a session cookie signs in; None once it has ended.

    A sign-in ends when the account signs out anywhere, has its password reset or is disabled
    (each bumps ``session_epoch``, so a copied cookie stops working too), or after ``lifetime``.
    """
    account_id, at = cookie.get("account_id"), cookie.get("at")
    if not isinstance(account_id, int) or not isinstance(at, int):
        return None
    if not 0 <= now.timestamp() - at < lifetime.total_seconds():
        return None
    account = session.get(Account, account_id)
    if account is None or account.disabled_at is not None:
        return None
    return account if cookie.get("epoch") == account.session_epoch else None


def end_sessions(session: Session, account: Account) -> None:
    """End every pages' sign-in of the account: sign-out, password reset, disabling."""
    account.session_epoch += 1


def issue_token(session: Session, account: Account, name: str = "") -> str:
    """A new API token for the account; shown once, stored as its SHA-256."""
    token = "ll_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            account_id=account.id, token_hash=hashlib.sha256(token.encode()).hexdigest(), name=name
        )
    )
    session.flush()
    return token


def account_for_token(session: Session, token: str) -> Account:
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        raise NotSignedIn(M_("unknown or revoked API token"))
    account = session.get(Account, row.account_id)
    if account is None or account.disabled_at is not None:
        raise NotSignedIn(M_("this account is disabled"))
    return account


def find_account(session: Session, store_id: int, person_id: int) -> Account | None:
    return session.scalar(
        select(Account)
        .where(Account.store_id == store_id, Account.person_id == person_id)
        .order_by(Account.id)
        .limit(1)
    )


def account_for_person(session: Session, store_id: int, person_id: int) -> Account:
    """The person's account; one without a password is made for people who arrive by LTI."""
    account = find_account(session, store_id, person_id)
    if account is None:
        from lrs.people.models import Person

        person = session.get(Person, person_id)
        email = person.email if person and person.email else f"person-{person_id}@lti.invalid"
        account = create_account(
            session, store_id, email, None, person_id=person_id, audit_action=None
        )
    return account


def set_locale(session: Session, account_id: int, locale: str | None) -> None:
    """The language the account's pages are shown in (a tag like ``de``); None: the browser's.

    The caller checks the tag is one the pages are offered in. Raises BadRequest for a tag
    longer than the column.
    """
    if locale is not None and not 0 < len(locale) <= 35:
        raise BadRequest(M_("a language tag has 1 to 35 characters"))
    account = session.get(Account, account_id)
    if account is not None:
        account.locale = locale


def viewer_of(account: Account) -> Viewer:
    """The account as authorization sees it; in a request, also the actor of its audit events."""
    audit.set_actor(audit.account_actor(account.id, account.email))
    return Viewer(account.id, account.store_id, account.person_id, account.is_admin)


def reports_of(session: Session, store_id: int, manager_id: int) -> set[int]:
    """Every direct and indirect report of a manager (a recursive walk of reporting lines)."""
    rows = session.execute(
        text(
            "WITH RECURSIVE team(person_id) AS ("
            " SELECT person_id FROM reporting_lines"
            " WHERE store_id = :store AND manager_id = :manager"
            " UNION"
            " SELECT r.person_id FROM reporting_lines r JOIN team t ON r.manager_id = t.person_id"
            " WHERE r.store_id = :store"
            ") SELECT person_id FROM team"
        ),
        {"store": store_id, "manager": manager_id},
    )
    return {person_id for (person_id,) in rows}


def set_manager(session: Session, store_id: int, person_id: int, manager_id: int | None) -> None:
    """Make ``manager_id`` the person's manager (None: no manager). Refuses cycles."""
    line = session.get(ReportingLine, person_id)
    if manager_id is None:
        if line is not None:
            session.delete(line)
        return
    if manager_id == person_id or manager_id in reports_of(session, store_id, person_id):
        raise BadRequest(
            at("manager_id", M_("a person cannot report to themselves or to their own report"))
        )
    if line is None:
        session.add(ReportingLine(store_id=store_id, person_id=person_id, manager_id=manager_id))
    else:
        line.manager_id = manager_id
    session.flush()


def can_see_person(session: Session, viewer: Viewer, person_id: int) -> bool:
    if viewer.is_admin or viewer.person_id == person_id:
        return True
    if viewer.person_id is None:
        return False
    return person_id in reports_of(session, viewer.store_id, viewer.person_id)


def can_manage_person(session: Session, viewer: Viewer, person_id: int) -> bool:
    """Admins and the person's managers (direct or indirect); not the person themselves."""
    if viewer.is_admin:
        return True
    if viewer.person_id is None or viewer.person_id == person_id:
        return False
    return person_id in reports_of(session, viewer.store_id, viewer.person_id)


def can_see_review(session: Session, viewer: Viewer, review: Review) -> bool:
    if review.store_id != viewer.store_id:
        return False
    if can_see_person(session, viewer, review.person_id):
        return True
    return (
        viewer.person_id is not None
        and session.get(ReviewGrant, (review.id, viewer.person_id)) is not None
    )


def can_read_record(session: Session, viewer: Viewer, person_id: int) -> bool:
    """Who sees the person, and the reviewers of one of the person's reviews (their record only)."""
    if can_see_person(session, viewer, person_id):
        return True
    if viewer.person_id is None:
        return False
    granted = session.scalar(
        select(ReviewGrant.review_id)
        .join(Review, Review.id == ReviewGrant.review_id)
        .where(
            ReviewGrant.person_id == viewer.person_id,
            Review.person_id == person_id,
            Review.store_id == viewer.store_id,
        )
        .limit(1)
    )
    return granted is not None


def is_reviewer(session: Session, viewer: Viewer, review: Review) -> bool:
    return (
        viewer.person_id is not None
        and session.get(ReviewGrant, (review.id, viewer.person_id)) is not None
    )
