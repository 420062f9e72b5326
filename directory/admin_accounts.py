"""Account administration: invitations by one-time link, disabling, password resets, roles.

Admins only (``objectives.accounts`` roles). An invitation or a reset is a link holding a random
token, shown once, stored as its SHA-256, good once and for ``LINK_LIFETIME``. Disabling an
account and resetting its password end every sign-in of it (``end_sessions``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import AccountLink
from directory.people import clean_email, person_by_email
from lrs import audit
from lrs.auth import hash_secret
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.people.models import Person
from objectives.accounts import Viewer, account_target, create_account, end_sessions
from objectives.errors import Hidden, NotAllowed
from objectives.models import Account

LINK_LIFETIME = dt.timedelta(days=7)
MIN_PASSWORD = 12


@dataclass(frozen=True)
class AccountRow:
    id: int
    email: str
    name: str
    is_admin: bool
    disabled: bool
    has_password: bool
    pending: bool


def require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins manage accounts"))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def list_accounts(session: Session, viewer: Viewer, now: dt.datetime) -> list[AccountRow]:
    require_admin(viewer)
    rows = session.execute(
        select(Account, Person.name)
        .outerjoin(Person, Person.id == Account.person_id)
        .where(Account.store_id == viewer.store_id)
        .order_by(Account.email)
    ).all()
    pending = set(
        session.scalars(
            select(AccountLink.account_id).where(
                AccountLink.store_id == viewer.store_id,
                AccountLink.used_at.is_(None),
                AccountLink.expires_at > now,
            )
        )
    )
    return [
        AccountRow(
            id=a.id,
            email=a.email,
            name=name or "",
            is_admin=a.is_admin,
            disabled=a.disabled_at is not None,
            has_password=a.password_hash is not None,
            pending=a.id in pending,
        )
        for a, name in rows
    ]


def get_account(session: Session, viewer: Viewer, account_id: int) -> Account:
    require_admin(viewer)
    account = session.get(Account, account_id)
    if account is None or account.store_id != viewer.store_id:
        raise Hidden(M_("no account %(id)s", id=account_id))
    return account


def account_by_email(session: Session, viewer: Viewer, email: str) -> Account:
    require_admin(viewer)
    account = session.scalar(
        select(Account).where(
            Account.store_id == viewer.store_id, Account.email == email.strip().lower()
        )
    )
    if account is None:
        raise NotFound(M_("no account for %(email)s", email=email.strip().lower()))
    return account


def _new_link(session: Session, account: Account, purpose: str, now: dt.datetime) -> str:
    # An account has one live link at a time: a new one replaces the old.
    for old in session.scalars(
        select(AccountLink).where(
            AccountLink.account_id == account.id, AccountLink.used_at.is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        AccountLink(
            store_id=account.store_id,
            account_id=account.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            purpose=purpose,
            expires_at=now + LINK_LIFETIME,
        )
    )
    session.flush()
    return token


def invite(
    session: Session,
    viewer: Viewer,
    email: str,
    now: dt.datetime,
    *,
    name: str = "",
    is_admin: bool = False,
) -> tuple[Account, str]:
    """An account without a password for the person with this address, and its one-time token.

    The person is found by e-mail (or created with the name given); an account that already
    exists is refused (reset its password instead).
    """
    require_admin(viewer)
    email = clean_email(email)
    if session.scalar(
        select(Account.id).where(Account.store_id == viewer.store_id, Account.email == email)
    ):
        raise Conflict(
            at(
                "email",
                M_("%(email)s already has an account; reset its password instead", email=email),
            )
        )
    person = person_by_email(session, viewer.store_id, email)
    if person is None:
        if not name.strip():
            raise BadRequest(
                at(
                    "name",
                    M_("nobody has %(email)s yet; write their name to add them", email=email),
                )
            )
        from directory.people import create_person

        person = create_person(session, viewer, name, email)
    if person.deactivated_at is not None:
        raise BadRequest(
            at("email", M_("%(name)s is deactivated; reactivate them first", name=person.name))
        )
    account = create_account(
        session,
        viewer.store_id,
        email,
        None,
        person_id=person.id,
        is_admin=is_admin,
        audit_action="account.invited",
    )
    return account, _new_link(session, account, "invite", now)


def _audit(session: Session, action: str, account: Account, **details) -> None:
    audit.record(
        session,
        action,
        store_id=account.store_id,
        target=account_target(account),
        details=details or None,
    )


def reset_password(
    session: Session, viewer: Viewer, account_id: int, now: dt.datetime
) -> tuple[Account, str]:
    """Remove the account's password, end its sign-ins, and make a one-time link to set one."""
    account = get_account(session, viewer, account_id)
    account.password_hash = None
    end_sessions(session, account)
    link = _new_link(session, account, "reset", now)
    _audit(session, "account.password_reset", account)
    return account, link


def set_password(session: Session, viewer: Viewer, account_id: int, password: str) -> Account:
    """Set a new password directly (the CLI); ends every sign-in of the account."""
    account = get_account(session, viewer, account_id)
    if len(password) < MIN_PASSWORD:
        raise BadRequest(at("password", M_("use at least %(min)s characters", min=MIN_PASSWORD)))
    account.password_hash = hash_secret(password)
    end_sessions(session, account)
    session.flush()
    _audit(session, "account.password_set", account)
    return account


def disable(session: Session, viewer: Viewer, account_id: int, now: dt.datetime) -> Account:
    """Stop the account signing in (pages, /api tokens) and end every sign-in now."""
    account = get_account(session, viewer, account_id)
    if account.id == viewer.account_id:
        raise BadRequest(M_("you cannot disable your own account"))
    if account.disabled_at is None:
        account.disabled_at = now
        _audit(session, "account.disabled", account)
    end_sessions(session, account)
    session.flush()
    return account


def enable(session: Session, viewer: Viewer, account_id: int) -> Account:
    account = get_account(session, viewer, account_id)
    if account.disabled_at is not None:
        account.disabled_at = None
        _audit(session, "account.enabled", account)
    session.flush()
    return account


def set_admin(session: Session, viewer: Viewer, account_id: int, is_admin: bool) -> Account:
    """Give or take the admin role; an admin cannot take it from themselves (no lock-out)."""
    account = get_account(session, viewer, account_id)
    if account.id == viewer.account_id and not is_admin:
        raise BadRequest(M_("you cannot take the admin role from yourself; ask another admin"))
    if account.is_admin != is_admin:
        account.is_admin = is_admin
        end_sessions(session, account)  # the role is read at sign-in by pages already open
        _audit(session, "account.role_changed", account, admin=is_admin)
    session.flush()
    return account


def link_account(session: Session, token: str, now: dt.datetime) -> tuple[AccountLink, Account]:
    """The live link of this token and its account; NotFound in words when it cannot be used."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    link = session.scalar(select(AccountLink).where(AccountLink.token_hash == digest))
    if link is None or link.used_at is not None or _aware(link.expires_at) <= now:
        raise NotFound(
            M_("This link has been used or has expired. Ask an administrator for a new one.")
        )
    account = session.get(Account, link.account_id)
    if account is None or account.disabled_at is not None:
        raise NotFound(M_("This account is disabled. Ask an administrator."))
    return link, account


def redeem(session: Session, token: str, password: str, confirm: str, now: dt.datetime) -> Account:
    """Set the password through a one-time link; the link is used up. BadRequest: field words."""
    link, account = link_account(session, token, now)
    if len(password) < MIN_PASSWORD:
        raise BadRequest(at("password", M_("use at least %(min)s characters", min=MIN_PASSWORD)))
    if password != confirm:
        raise BadRequest(at("confirm", M_("the two passwords are not the same")))
    account.password_hash = hash_secret(password)
    link.used_at = now
    end_sessions(session, account)
    session.flush()
    return account
