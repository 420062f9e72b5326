"""SCIM bearer tokens: one or more per store, made by an admin, shown once, stored hashed.

A token is ``scim_`` and 32 random bytes (URL-safe base64); the database keeps its SHA-256, so
a copy of the database provisions nothing. The token is what tells the store: an identity
provider connected with it reads and writes that store's people and no other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.scim.errors import ScimError, unauthorized
from directory.scim.models import ScimToken
from lrs import audit
from lrs.catalogue import M_
from lrs.errors import NotFound
from lrs.models import Store

PREFIX = "scim_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: its row id and the secret itself (shown only now)."""

    id: int
    store: str
    name: str
    token: str


def create_token(session: Session, store_name: str, name: str = "") -> IssuedToken:
    """A new token for an existing store. NotFound (404) for an unknown store: never created."""
    store_id = session.scalar(select(Store.id).where(Store.name == store_name))
    if store_id is None:
        raise NotFound(M_("no store named %(name)s", name=repr(store_name)))
    token = PREFIX + secrets.token_urlsafe(32)
    row = ScimToken(store_id=store_id, name=name.strip()[:200], token_hash=_digest(token))
    session.add(row)
    session.flush()
    audit.record(session, "scim.client.created", store_id=store_id, target=_target(row))
    return IssuedToken(row.id, store_name, row.name, token)


def _target(row: ScimToken) -> audit.Target:
    return audit.Target("scim_client", row.id, row.name)


def scim_actor(row: ScimToken) -> audit.Actor:
    """A SCIM client as the actor of what it provisions: the token's name and row id."""
    return audit.Actor("scim", str(row.id), f"SCIM client {row.name or 'unnamed'} (#{row.id})")


def list_tokens(session: Session, store_id: int) -> list[ScimToken]:
    """The store's tokens, newest first, revoked ones included (their secret is never kept)."""
    return list(
        session.scalars(
            select(ScimToken).where(ScimToken.store_id == store_id).order_by(ScimToken.id.desc())
        )
    )


def revoke_token(session: Session, store_id: int, token_id: int, now: dt.datetime) -> ScimToken:
    """Revoke a token of the store (idempotent); 404 for another store's or an unknown id."""
    row = session.get(ScimToken, token_id)
    if row is None or row.store_id != store_id:
        raise ScimError(M_("token %(id)s not found", id=str(token_id)), 404)
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        audit.record(session, "scim.client.revoked", store_id=store_id, target=_target(row))
    return row


def store_for_token(session: Session, header: str | None) -> tuple[int, int]:
    """The (store id, token id) an ``Authorization: Bearer`` header provisions; 401 if none."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX) or "\x00" in token:
        raise unauthorized("send Authorization: Bearer <SCIM token>")
    row = session.scalar(select(ScimToken).where(ScimToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise unauthorized("unknown or revoked SCIM token")
    audit.set_actor(scim_actor(row))
    return row.store_id, row.id
