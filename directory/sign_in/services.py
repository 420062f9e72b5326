"""Sign-in settings per store, routing a sign-in to its store, and who a provider vouches for.

Services take a session and never commit (the caller does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from directory.sign_in.models import SignInDomain, SignInSettings
from lrs import audit, sealing
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict, FieldError, SecretsUnavailable
from lrs.models import Store
from lrs.outbound import OutboundGuard
from lrs.people.models import Person
from objectives.accounts import create_account
from objectives.errors import NotSignedIn
from objectives.models import Account

#: The HKDF info of OpenID client secrets (each kind of sealed secret has its own key).
PURPOSE = b"learnloop sign-in: OIDC client secrets v1"
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class SecretBox(sealing.SecretBox):
    """Seals and opens OpenID client secrets (``lrs.sealing``, docs/secrets.md)."""

    def __init__(self, master_key: str) -> None:
        super().__init__(master_key, PURPOSE, "single sign-on client secret")


def secret_context(store_id: int) -> str:
    """The associated data of a store's sealed client secret: it opens on that store only."""
    return f"sign-in:{store_id}"


@dataclass(frozen=True)
class Settings:
    """A store's sign-in settings as pages and the sign-in flow read them (no secret)."""

    store_id: int
    store_name: str
    password_enabled: bool
    issuer: str | None
    client_id: str | None
    has_client_secret: bool
    domains: tuple[str, ...]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.issuer and self.client_id and self.has_client_secret)


def find_store(session: Session, name: str) -> Store | None:
    return session.scalar(select(Store).where(Store.name == name)) if name else None


def settings_of(session: Session, store: Store) -> Settings:
    row = session.get(SignInSettings, store.id)
    domains = session.scalars(
        select(SignInDomain.domain)
        .where(SignInDomain.store_id == store.id)
        .order_by(SignInDomain.position, SignInDomain.domain)
    )
    return Settings(
        store_id=store.id,
        store_name=store.name,
        password_enabled=row.password_enabled if row else True,
        issuer=row.oidc_issuer if row else None,
        client_id=row.oidc_client_id if row else None,
        has_client_secret=bool(row and row.oidc_client_secret),
        domains=tuple(domains),
    )


def client_secret(session: Session, box: SecretBox, store_id: int) -> str:
    """The store's OpenID client secret, opened (SecretsUnavailable, 503, with a wrong key)."""
    row = session.get(SignInSettings, store_id)
    if row is None or not row.oidc_client_secret:
        raise BadRequest(M_("single sign-on is not set up for this organisation"))
    return box.open(row.oidc_client_secret, secret_context(store_id))


def parse_domains(text: str) -> list[str]:
    """Email domains from ``"example.com, example.org"``; BadRequest naming a bad one."""
    found: list[str] = []
    for entry in re.split(r"[,\s]+", (text or "").strip().lower()):
        entry = entry.lstrip("@").rstrip(".")
        if not entry:
            continue
        if not DOMAIN.match(entry):
            raise _bad(
                "domains",
                M_("%(domain)s is not a domain like example.com", domain=repr(entry[:80])),
            )
        if entry not in found:
            found.append(entry)
    return found


def save_settings(
    session: Session,
    store: Store,
    *,
    password_enabled: bool,
    issuer: str,
    client_id: str,
    new_client_secret: str | None,
    domains: list[str],
    box: SecretBox | None,
    guard: OutboundGuard,
) -> Settings:
    """Replace the store's sign-in settings; returns them as read back.

    ``new_client_secret`` None keeps the sealed one; an empty issuer turns single sign-on
    off (and forgets the secret). Refuses (BadRequest naming the field): an issuer the
    outbound guard would not call, an issuer without client id or secret, turning passwords
    off without single sign-on (nobody could sign in). Conflict when a domain belongs to
    another store (a domain routes to one store only).
    """
    issuer = (issuer or "").strip().rstrip("/")
    client_id = (client_id or "").strip()
    row = session.get(SignInSettings, store.id)
    if row is None:
        row = SignInSettings(store_id=store.id, password_enabled=True)
        session.add(row)
    if issuer:
        guard.target(issuer, "issuer")
        if not client_id:
            raise _bad("client_id", M_("fill this in: the client id the provider gave Learnloop"))
        if not new_client_secret and not (row.oidc_client_secret and row.oidc_issuer):
            raise _bad("client_secret", M_("fill this in: the client secret the provider gave"))
    if not password_enabled and not issuer:
        raise _bad("password_enabled", M_("set up single sign-on first, or nobody can sign in"))
    row.password_enabled = password_enabled
    row.oidc_issuer = issuer or None
    row.oidc_client_id = client_id if issuer else None
    if not issuer:
        row.oidc_client_secret = None
    elif new_client_secret:
        if box is None:
            raise _bad("client_secret", M_("cannot be sealed without LEARNLOOP_SECRET_KEY"))
        row.oidc_client_secret = box.seal(new_client_secret, secret_context(store.id))
    taken = session.scalars(
        select(SignInDomain).where(
            SignInDomain.domain.in_(domains), SignInDomain.store_id != store.id
        )
    ).first()
    if taken is not None:
        reason = M_("%(domain)s already belongs to another organisation", domain=taken.domain)
        raise Conflict(at("domains", reason), [FieldError("domains", reason)])
    session.execute(delete(SignInDomain).where(SignInDomain.store_id == store.id))
    session.flush()
    for position, domain in enumerate(domains):
        session.add(SignInDomain(domain=domain, store_id=store.id, position=position))
    session.flush()
    saved = settings_of(session, store)
    audit.record(
        session,
        "sign_in.settings_changed",
        store_id=store.id,
        target=audit.Target("sign_in", store.id, "sign-in settings"),
        details={
            "password_enabled": saved.password_enabled,
            "issuer": saved.issuer,
            "client_id": saved.client_id,
            # whether a new client secret was given (never the secret itself)
            "client_sealed_anew": bool(issuer and new_client_secret),
            "domains": list(saved.domains),
        },
    )
    return saved


def _bad(field: str, reason: str) -> BadRequest:
    return BadRequest(at(field, reason), [FieldError(field, reason)])


def only_store(session: Session) -> Store | None:
    """The store when there is exactly one (then nobody is asked for an organisation)."""
    stores = session.scalars(select(Store).order_by(Store.id).limit(2)).all()
    return stores[0] if len(stores) == 1 else None


def store_for_email(session: Session, email: str) -> Store | None:
    """The store whose sign-in domains hold ``email``'s domain, or None."""
    _, at, domain = (email or "").strip().lower().rpartition("@")
    if not at or not domain:
        return None
    store_id = session.scalar(
        select(SignInDomain.store_id).where(SignInDomain.domain == domain.rstrip("."))
    )
    return session.get(Store, store_id) if store_id else None


def password_allowed(session: Session, store_name: str) -> bool:
    """Whether passwords sign in to the store called ``store_name``.

    Unknown stores: True, so that they cost the same dummy check as a wrong password.
    """
    enabled = session.scalar(
        select(SignInSettings.password_enabled)
        .join(Store, Store.id == SignInSettings.store_id)
        .where(Store.name == store_name)
    )
    return enabled is not False


def email_allowed(settings: Settings, email: str) -> bool:
    """Whether single sign-on accepts ``email``: any domain when none is listed."""
    domain = email.rpartition("@")[2].lower()
    return not settings.domains or domain in settings.domains


def account_for_identity(session: Session, store_id: int, email: str) -> Account:
    """The account a provider's verified ``email`` signs in to.

    An account of the store with that email; else, for an active person of the store with that
    email, a new account without password linked to them. NotSignedIn (401) otherwise, and for
    a disabled account: single sign-on never creates people.
    """
    email = email.strip().lower()
    account = session.scalar(
        select(Account).where(Account.store_id == store_id, Account.email == email)
    )
    if account is None:
        person = session.scalar(
            select(Person)
            .where(
                Person.store_id == store_id,
                func.lower(Person.email) == email,
                Person.deactivated_at.is_(None),
            )
            .order_by(Person.id)
            .limit(1)
        )
        if person is None:
            raise NotSignedIn(
                M_("%(email)s has no account in this organisation; ask its admin", email=email)
            )
        # Made at a person's own sign-in, not by an administrator: no audit event.
        account = create_account(
            session, store_id, email, None, person_id=person.id, audit_action=None
        )
    if account.disabled_at is not None:
        raise NotSignedIn(M_("the account of %(email)s is disabled", email=email))
    return account


def reseal_secrets(session: Session, old: SecretBox, new: SecretBox) -> tuple[int, int]:
    """Seal every store's client secret with ``new`` instead of ``old``; (resealed, kept).

    Secrets ``new`` already opens are kept, so it can run again. SecretsUnavailable naming the
    stores whose secret neither key opens, and nothing changed then.
    """
    changes, kept, lost = [], 0, []
    rows = session.scalars(
        select(SignInSettings)
        .where(SignInSettings.oidc_client_secret.is_not(None))
        .order_by(SignInSettings.store_id)
    )
    for row in rows:
        context = secret_context(row.store_id)
        if new.opens(row.oidc_client_secret, context):
            kept += 1
        elif old.opens(row.oidc_client_secret, context):
            changes.append((row, old.open(row.oidc_client_secret, context), context))
        else:
            lost.append(str(row.store_id))
    if lost:
        raise SecretsUnavailable(
            f"the client secrets of store(s) {', '.join(lost)} open with neither the old nor the "
            "new LEARNLOOP_SECRET_KEY; nothing was changed"
        )
    for row, secret, context in changes:
        row.oidc_client_secret = new.seal(secret, context)
    session.flush()
    audit.record(
        session,
        "sign_in.resealed",
        store_id=None,  # under a new instance secret: every organisation's client secret
        target=audit.Target("sign_in", "", "every single sign-on client"),
        details={"resealed": len(changes), "kept": kept},
    )
    return len(changes), kept
