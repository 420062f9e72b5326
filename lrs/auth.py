"""Stores, credentials and xAPI scopes (xAPI 1.0.3 Communication 4.2, OAuth scopes table).

Secrets are stored as scrypt hashes. Verifying scrypt costs tens of milliseconds of CPU, which
would cap the LRS near the request rate of the ADL reference LRS; so a verified (key, secret) pair
is remembered in memory for a short time, keyed by an HMAC of the presented secret under a
per-process random key. The secret itself is never kept or logged.

OAuth 2.0 bearer tokens (``lrs.oauth`` issues them) are checked the same way: one indexed lookup
of the token's SHA-256, remembered for the same short time under an HMAC of the token.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lrs import audit
from lrs.core.statements import authority_key
from lrs.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from lrs.models import Credential, Store
from lrs.oauth_models import OAuthToken
from lrs.throttle import Throttle, counters

SCOPES = (
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "all/read",
    "all",
    "state",
    "define",
    "profile",
)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    params = f"{_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}"
    return f"scrypt${params}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        secret.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


#: Verified against when a key or account is unknown, so the answer costs the same.
DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the credential, its store, its scopes and the authority it stamps."""

    store_id: int
    credential_id: int
    key: str
    scopes: frozenset[str]
    authority: dict
    authority_key: int

    @classmethod
    def of(cls, credential: Credential) -> Principal:
        """The principal a stored credential authenticates as."""
        authority = json.loads(credential.authority)
        return cls(
            store_id=credential.store_id,
            credential_id=credential.id,
            key=credential.key,
            scopes=frozenset(credential.scopes.split()),
            authority=authority,
            authority_key=authority_key(authority),
        )

    def allows(self, *scopes: str) -> bool:
        return "all" in self.scopes or bool(self.scopes.intersection(scopes))


def require(principal: Principal, *scopes: str) -> None:
    """Raise Forbidden unless the credential holds one of ``scopes`` (``all`` holds every one)."""
    if not principal.allows(*scopes):
        raise Forbidden(
            "this credential lacks the scope for this request; it needs one of: "
            + ", ".join(scopes)
        )


READ_STATEMENTS = ("statements/read", "statements/read/mine", "all/read")
WRITE_STATEMENTS = ("statements/write",)


class InvalidToken(Unauthorized):
    """An unknown, expired or revoked bearer token (401, RFC 6750 §3.1 ``invalid_token``)."""

    code = "invalid_token"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.challenge = (
            f'Bearer realm="Learnloop xAPI", error="invalid_token", error_description="{message}"'
        )


def token_digest(token: str) -> str:
    """What is stored of a bearer token: its SHA-256 (hex); the token is 32 random bytes."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1); InvalidToken if bad."""
    scheme, _, value = (header or "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("the Authorization header must be Bearer <token>")
    if len(token) > 200 or any(c.isspace() or ord(c) < 33 or ord(c) > 126 for c in token):
        raise InvalidToken("unknown access token")
    return token


def is_bearer(header: str | None) -> bool:
    """Whether an Authorization header uses the Bearer scheme (case-insensitive)."""
    return (header or "").partition(" ")[0].lower() == "bearer"


class Authenticator:
    """Resolves HTTP Basic credentials to a Principal, with a short in-memory cache."""

    def __init__(self, ttl_seconds: float = 60.0, throttle: Throttle | None = None) -> None:
        self._ttl = ttl_seconds
        self.throttle = throttle
        self._pepper = secrets.token_bytes(32)
        self._cache: dict[tuple[str, bytes], tuple[float, Principal]] = {}
        self._tokens: dict[bytes, tuple[float, int, Principal]] = {}
        self._lock = threading.Lock()
        self._versions: dict[str, str] = {}

    def version_last_used(self, header: str | None) -> str | None:
        """The version this key last spoke, to answer a request that names none in its dialect.

        A dual-version LRS has no version of its own to report on a request without the
        header; reporting the one the client last used tells that client what it expects.
        """
        try:
            key, _ = parse_basic(header)
        except Unauthorized:
            return None
        return self._versions.get(key)

    def forget(self) -> None:
        """Drop every remembered verification (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()
            self._tokens.clear()

    def forget_token(self, token: str) -> None:
        """Drop the remembered check of one bearer token (after its client revoked it)."""
        tag = hmac.new(self._pepper, token.encode(), hashlib.sha256).digest()
        with self._lock:
            self._tokens.pop(tag, None)

    def verify(
        self, session: Session, key: str, secret: str, address: str | None = None
    ) -> Principal:
        """The principal of a key and secret, as HTTP Basic checks them (throttle, cache).

        For the OAuth token endpoint, whose clients authenticate with the same key and secret.
        """
        return self._verified(session, key, secret, address)

    def authenticate_bearer(self, session: Session, header: str | None, now_ms: int) -> Principal:
        """The principal of an OAuth 2.0 bearer token: its credential with the token's scopes.

        One indexed lookup of the token's hash (joined to its credential), remembered for the
        Basic cache's period, but never past the token's expiry by ``now_ms`` (the app's clock).
        InvalidToken for an unknown, expired or revoked token, or a revoked credential's.
        """
        token = parse_bearer(header)
        tag = hmac.new(self._pepper, token.encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            hit = self._tokens.get(tag)
        if hit and hit[0] > now:
            if now_ms < hit[1]:
                return hit[2]
            raise InvalidToken("the access token has expired")
        row = session.execute(
            select(OAuthToken.scopes, OAuthToken.expires_ms, OAuthToken.revoked_ms, Credential)
            .join(Credential, Credential.id == OAuthToken.credential_id)
            .where(OAuthToken.token_hash == token_digest(token))
        ).first()
        if row is None:
            raise InvalidToken("unknown access token")
        scopes, expires_ms, revoked_ms, credential = row
        if revoked_ms is not None or credential.revoked_at is not None:
            raise InvalidToken("the access token was revoked")
        if now_ms >= expires_ms:
            raise InvalidToken("the access token has expired")
        principal = dataclasses.replace(Principal.of(credential), scopes=frozenset(scopes.split()))
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[tag] = (now + self._ttl, expires_ms, principal)
        return principal

    def authenticate(
        self,
        session: Session,
        header: str | None,
        version: str | None = None,
        address: str | None = None,
    ) -> Principal:
        """The principal of HTTP Basic credentials.

        ``version``: the xAPI version it speaks now; ``address``: the client's, for counting
        failed checks (``lrs.throttle``).
        """
        key, secret = parse_basic(header)
        principal = self._verified(session, key, secret, address)
        if version is not None and self._versions.get(key) != version:
            if len(self._versions) > 10_000:
                self._versions.clear()
            self._versions[key] = version
        return principal

    def _verified(self, session: Session, key: str, secret: str, address: str | None) -> Principal:
        tag = (key, hmac.new(self._pepper, secret.encode(), hashlib.sha256).digest())
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(tag)
        if hit and hit[0] > now:
            return hit[1]  # a verified client pays scrypt once per period, and no throttle check
        counted = counters("key", key, address) if self.throttle else {}
        if counted:
            self.throttle.check(counted)  # before scrypt: a locked guesser costs nothing
        credential = session.scalar(
            select(Credential).where(Credential.key == key, Credential.revoked_at.is_(None))
        )
        # An unknown key costs the same scrypt as a wrong secret, so keys cannot be enumerated.
        verified = verify_secret(secret, credential.secret_hash if credential else DUMMY_HASH)
        if credential is None or not verified:
            if counted:
                self.throttle.failed(counted)
            raise Unauthorized("unknown key or wrong secret")
        if counted:
            self.throttle.succeeded(counted)
        principal = Principal.of(credential)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[tag] = (now + self._ttl, principal)
        return principal


def parse_basic(header: str | None) -> tuple[str, str]:
    """Split an ``Authorization: Basic`` header into key and secret; Unauthorized if malformed."""
    if not header:
        raise Unauthorized("this resource needs HTTP Basic credentials")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise Unauthorized("the Authorization header must use the Basic scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not valid base64") from None
    key, colon, secret = decoded.partition(":")
    if not colon or not key:
        raise Unauthorized("the Basic credentials must be key:secret")
    if "\x00" in decoded:  # no key or secret holds one; PostgreSQL cannot even look it up
        raise Unauthorized("the Basic credentials must not contain NUL characters")
    return key, secret


def require_store(session: Session, name: str) -> Store:
    """The store of this name; NotFound naming the stores there are, never a new one.

    Commands take ``--store NAME``: a typo must not start an empty organisation silently.
    """
    store = session.scalar(select(Store).where(Store.name == name))
    if store is None:
        names = list(session.scalars(select(Store.name).order_by(Store.name).limit(11)))
        known = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
        raise NotFound(
            f"no organisation (store) called {name!r}"
            + (f"; there are: {known}" if names else "; there are none yet")
            + f" (create it with: learnloop stores create {name})"
        )
    return store


def get_or_create_store(session: Session, name: str) -> Store:
    store = session.scalar(select(Store).where(Store.name == name))
    if store is None:
        store = _new_store(session, name)
    return store


def create_store(session: Session, name: str) -> Store:
    """A new, empty organisation (store), with its ``store.created`` audit event.

    BadRequest unless the name is one word of at most 200 characters; Conflict if it exists.
    """
    name = name.strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise BadRequest("a store name is one word of at most 200 characters")
    if session.scalar(select(Store.id).where(Store.name == name)) is not None:
        raise Conflict(f"the store {name!r} already exists")
    return _new_store(session, name)


def _new_store(session: Session, name: str) -> Store:
    store = Store(name=name)
    session.add(store)
    session.flush()
    audit.record(
        session, "store.created", store_id=store.id, target=audit.Target("store", store.id, name)
    )
    return store


def create_credential(
    session: Session,
    store_name: str,
    scopes: list[str] | None = None,
    key: str | None = None,
    secret: str | None = None,
    label: str = "",
    home_page: str = "http://localhost:8080/",
) -> tuple[Credential, str]:
    """Create a credential in a store (created if missing). Returns it and its plain secret.

    The secret is shown to the caller once; only its hash is stored.
    """
    scopes = list(scopes or ["all"])
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise BadRequest(f"unknown scope {bad[0]!r}; scopes are: " + ", ".join(SCOPES))
    store = get_or_create_store(session, store_name)
    key = key or secrets.token_hex(10)
    secret = secret or secrets.token_urlsafe(24)
    if session.scalar(select(Credential.id).where(Credential.key == key)) is not None:
        raise BadRequest(f"a credential with key {key!r} already exists")
    authority = {
        "objectType": "Agent",
        "name": label or f"{store_name} credential {key}",
        "account": {"homePage": home_page, "name": key},
    }
    credential = Credential(
        store_id=store.id,
        key=key,
        secret_hash=hash_secret(secret),
        scopes=" ".join(scopes),
        label=label,
        authority=json.dumps(authority, separators=(",", ":")),
    )
    session.add(credential)
    session.flush()
    audit.record(
        session,
        "credential.created",
        store_id=store.id,
        target=_credential_target(credential),
        details={"scopes": scopes},
    )
    return credential, secret


def _credential_target(credential: Credential) -> audit.Target:
    return audit.Target("credential", credential.key, credential.label or credential.key)


def revoke_credential(
    session: Session, store_id: int, credential_id: int, now: dt.datetime
) -> Credential:
    """Revoke a credential of the store (NotFound for another store's); revoking again is a no-op.

    The caller drops remembered verifications after the commit (``Authenticator.forget``).
    """
    credential = session.get(Credential, credential_id)
    if credential is None or credential.store_id != store_id:
        raise NotFound(f"no credential {credential_id} in this store")
    if credential.revoked_at is None:
        credential.revoked_at = now
        session.execute(  # its OAuth tokens die with it (they are refused anyway: the join)
            update(OAuthToken)
            .where(OAuthToken.credential_id == credential.id, OAuthToken.revoked_ms.is_(None))
            .values(revoked_ms=int(now.timestamp() * 1000))
        )
        session.flush()
        audit.record(
            session,
            "credential.revoked",
            store_id=store_id,
            target=_credential_target(credential),
        )
    return credential
