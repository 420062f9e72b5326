"""OAuth 2.0 client credentials on the xAPI endpoint (issue 17): the tokens and their rules.

lrsql accepts OAuth 2.0 tokens on its xAPI endpoint, and LinkedIn Learning and other providers
send statements with client credentials (RFC 6749 §4.4): a credential's key and secret buy a
short-lived bearer token at ``POST /oauth/token`` (``lrs.oauth_views``), which ``/xapi``
accepts as ``Authorization: Bearer`` with exactly the token's scopes (``lrs.auth``). The
authority of what a token writes is its credential's, as with Basic.

A token is 32 random bytes (URL-safe base64); only its SHA-256 is stored (``oauth_tokens``),
with its credential, scopes and expiry. A token ends when it expires, when its client revokes
it (RFC 7009), when an administrator revokes every token of its credential, or when its
credential is revoked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from lrs import audit
from lrs.auth import SCOPES, Principal, token_digest
from lrs.errors import BadRequest, ConfigError, NotFound
from lrs.models import Credential
from lrs.oauth_models import OAuthToken
from lrs.settings import from_env

#: The longest a token may live: "short-lived" is the point of a bearer token.
MAX_TOKEN_SECONDS = 86_400
#: How long an expired token's row is kept (to say "expired" rather than "unknown").
FORGET_AFTER_MS = 86_400_000

#: What holding a scope lets a credential ask a token for, besides the scope itself.
IMPLIED = {
    "all": frozenset(SCOPES),
    "all/read": frozenset({"statements/read", "statements/read/mine"}),
    "statements/read": frozenset({"statements/read/mine"}),
}


@dataclass(frozen=True)
class OAuthSettings:
    """``LEARNLOOP_OAUTH_*``: how long an issued token lives (``TOKEN_SECONDS``, default 1 h)."""

    token_seconds: int = 3600


def settings_from_env(environ: dict[str, str] | None = None, **overrides) -> OAuthSettings:
    """The settings from ``LEARNLOOP_OAUTH_*``; ConfigError naming the variable if wrong."""
    settings = from_env(OAuthSettings, "LEARNLOOP_OAUTH_", environ, overrides)
    if settings.token_seconds > MAX_TOKEN_SECONDS:
        raise ConfigError(f"LEARNLOOP_OAUTH_TOKEN_SECONDS must be at most {MAX_TOKEN_SECONDS}")
    return settings


class ScopeRefused(BadRequest):
    """A requested scope is unknown or beyond the credential's (RFC 6749 ``invalid_scope``)."""

    code = "invalid_scope"


def grantable(held: frozenset[str]) -> frozenset[str]:
    """Every scope a credential holding ``held`` may put in a token."""
    out: set[str] = set(held)
    for scope in held:
        out |= IMPLIED.get(scope, frozenset())
    return frozenset(out)


def grant_scopes(held: frozenset[str], requested: str | None) -> list[str]:
    """The scopes of a new token: the requested ones (space-separated), or all held if none.

    Raises ScopeRefused naming the first unknown scope or the first the credential lacks.
    """
    if requested is None or not requested.strip():
        return [s for s in SCOPES if s in held]
    wanted = list(dict.fromkeys(requested.split()))
    may = grantable(held)
    for scope in wanted:
        if scope not in SCOPES:
            raise ScopeRefused(
                f"unknown scope {scope[:100]!r}; xAPI scopes are: " + " ".join(SCOPES)
            )
        if scope not in may:
            raise ScopeRefused(
                f"the credential does not hold the scope {scope!r}; it may ask for: "
                + " ".join(s for s in SCOPES if s in may)
            )
    return wanted


def issue_token(
    session: Session, principal: Principal, scopes: list[str], now_ms: int, seconds: int
) -> str:
    """Store a new token of the principal's credential and return it (the only time it exists).

    Clients that buy a token per batch would grow the table without end, so the credential's
    tokens that expired more than a day ago go in the same transaction (an expired token is
    answered "expired" for that day, then "unknown").
    """
    session.execute(
        delete(OAuthToken).where(
            OAuthToken.credential_id == principal.credential_id,
            OAuthToken.expires_ms < now_ms - FORGET_AFTER_MS,
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        OAuthToken(
            credential_id=principal.credential_id,
            token_hash=token_digest(token),
            scopes=" ".join(scopes),
            issued_ms=now_ms,
            expires_ms=now_ms + seconds * 1000,
        )
    )
    session.flush()
    return token


def find_token(session: Session, token: str) -> OAuthToken | None:
    """The stored token a client presents, or None (one lookup of its hash)."""
    if not token or len(token) > 200 or "\x00" in token:
        return None
    return session.scalar(select(OAuthToken).where(OAuthToken.token_hash == token_digest(token)))


def revoke(session: Session, row: OAuthToken, now_ms: int) -> None:
    """Revoke one token (RFC 7009); revoking again changes nothing."""
    if row.revoked_ms is None:
        row.revoked_ms = now_ms
        session.flush()


def active_tokens(session: Session, credential_ids: list[int], now_ms: int) -> dict[int, int]:
    """How many unexpired, unrevoked tokens each of these credentials has (for the admin page)."""
    if not credential_ids:
        return {}
    rows = session.execute(
        select(OAuthToken.credential_id, func.count())
        .where(
            OAuthToken.credential_id.in_(credential_ids),
            OAuthToken.revoked_ms.is_(None),
            OAuthToken.expires_ms > now_ms,
        )
        .group_by(OAuthToken.credential_id)
    ).all()
    return {credential_id: count for credential_id, count in rows}


def revoke_credential_tokens(
    session: Session, store_id: int, key: str, now_ms: int
) -> tuple[Credential, int]:
    """Revoke every live token of the store's credential ``key``; returns it and how many.

    An administrative action: leaves an ``oauth.tokens.revoked`` audit event naming the
    credential and the count (never a token). NotFound for a key of another store or none.
    The caller drops remembered verifications after the commit (``Authenticator.forget``).
    """
    credential = session.scalar(
        select(Credential).where(Credential.key == key, Credential.store_id == store_id)
    )
    if credential is None:
        raise NotFound(f"no credential with key {key[:200]!r} in this store")
    revoked = session.execute(
        update(OAuthToken)
        .where(
            OAuthToken.credential_id == credential.id,
            OAuthToken.revoked_ms.is_(None),
            OAuthToken.expires_ms > now_ms,
        )
        .values(revoked_ms=now_ms)
    ).rowcount
    audit.record(
        session,
        "oauth.tokens.revoked",
        store_id=store_id,
        target=audit.Target("credential", credential.key, credential.label or credential.key),
        details={"revoked": revoked},
    )
    return credential, revoked
