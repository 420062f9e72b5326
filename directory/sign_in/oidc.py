"""The OpenID Connect relying party: authorization code flow with PKCE, checked step by step.

``begin`` reads the provider's discovery document (``<issuer>/.well-known/openid-configuration``),
makes a fresh ``state``, ``nonce`` and PKCE verifier (S256), and returns the provider's
authorization URL with what the browser's session must keep. ``finish`` checks, in order:
the provider's error, the ``state`` (before any call), the code exchanged at the token endpoint
with the client secret and the verifier, the ID token's signature against the provider's key
set (``jwks_uri``; an unknown ``kid`` fetches it once more), then its claims with authlib's
``CodeIDToken`` (``iss`` is the issuer, ``aud`` holds the client id, ``azp``, ``exp`` and
``iat`` with leeway, ``nonce`` is the one sent, ``at_hash``), and last a verified email.
Each refusal is a ``SignInRefused`` (401) saying which check failed, never the provider's body.

Every call to the provider goes through ``lrs.outbound`` (the guard: no address inside unless
``LEARNLOOP_OIDC_*`` allows it, a total deadline, no redirects, a bounded body).
"""

from __future__ import annotations

import base64
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from directory.sign_in.config import OidcConfig
from lrs import outbound
from lrs.catalogue import M_
from lrs.errors import LrsError
from schemas.jsoninput import read_json

EXTENSION = "learnloop.sign_in"
SCOPE = "openid email profile"
#: Signature algorithms accepted on ID tokens (asymmetric only: a client secret never signs).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
#: What a refusal calls each of the provider's answers, as the pages can translate it.
_THE = {
    "provider's discovery document": M_("the provider's discovery document"),
    "provider's key set": M_("the provider's key set"),
    "provider's token answer": M_("the provider's token answer"),
}


def _the(what: str) -> str:
    """``the provider's key set``: ``what`` as a refusal names it (a Message when it can)."""
    return _THE.get(what) or f"the {what}"


class SignInRefused(LrsError):
    """The provider's answer does not sign anyone in (401); the message names the check."""

    status = 401
    code = "sign_in_refused"


class ProviderUnavailable(LrsError):
    """The provider could not be asked: unreachable, refused by the guard, or a bad answer."""

    status = 502
    code = "provider_unavailable"


@dataclass(frozen=True)
class Client:
    """What Learnloop is at the provider: its issuer, client id and secret, its redirect URI."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class Identity:
    """Who the provider vouches for: subject and verified email (lower-case)."""

    subject: str
    email: str
    name: str


class RelyingParty:
    """One per app: the guard, the limits and the cache of discovery documents and key sets."""

    def __init__(self, config: OidcConfig, resolver: outbound.Resolver = outbound.system_resolver):
        self.config = config
        self.guard = config.outbound_guard(resolver)
        self.limits = config.limits()
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    # ---- the provider ------------------------------------------------------------------

    def _get_json(self, url: str, what: str, *, fresh: bool = False) -> Any:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached and not fresh and cached[0] > now:
            return cached[1]
        try:
            reply = outbound.send(
                self.guard,
                self.limits,
                "GET",
                url,
                name=what,
                headers={"Accept": "application/json"},
            )
        except LrsError as exc:  # UnsafeUrl, OutboundFailed
            raise ProviderUnavailable(
                M_("%(what)s could not be read: %(why)s", what=_the(what), why=exc.message)
            ) from None
        if reply.status != 200:
            raise ProviderUnavailable(
                M_("%(what)s answered %(status)s", what=_the(what), status=reply.status)
            )
        value = _json(reply.body, what)
        with self._lock:
            self._cache[url] = (now + self.config.cache_seconds, value)
        return value

    def discovery(self, issuer: str) -> dict[str, Any]:
        """The provider's metadata (cached ``cache_seconds``).

        ProviderUnavailable unless it names this issuer and the endpoints the code flow needs,
        each a URL the guard may call.
        """
        issuer = issuer.rstrip("/")
        what = "provider's discovery document"
        meta = self._get_json(issuer + "/.well-known/openid-configuration", what)
        if not isinstance(meta, dict) or meta.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnavailable(M_("the provider's discovery document names another issuer"))
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            try:
                self.guard.target(meta.get(name), name)
            except LrsError as exc:
                raise ProviderUnavailable(
                    M_("the provider's discovery document: %(why)s", why=exc.message)
                ) from None
        return meta

    def _keys(self, jwks_uri: str, kid: str | None) -> KeySet:
        for fresh in (False, True):
            data = self._get_json(jwks_uri, "provider's key set", fresh=fresh)
            try:
                keys = KeySet.import_key_set(data)
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderUnavailable(
                    M_("the provider's key set holds no usable key")
                ) from None
            if kid is None or any(k.kid == kid for k in keys.keys):
                return keys
        raise SignInRefused(M_("the ID token is signed with a key the provider does not publish"))

    # ---- the flow ----------------------------------------------------------------------

    def begin(self, client: Client) -> tuple[str, dict[str, str]]:
        """The provider's authorization URL, and what the session keeps until ``finish``."""
        meta = self.discovery(client.issuer)
        pending = {
            "state": generate_token(32),
            "nonce": generate_token(32),
            "verifier": generate_token(64),
        }
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": SCOPE,
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": create_s256_code_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
        endpoint = meta["authorization_endpoint"]
        joiner = "&" if "?" in endpoint else "?"
        return endpoint + joiner + urlencode(params, quote_via=quote), pending

    def finish(self, client: Client, pending: dict[str, str], answer: dict[str, str]) -> Identity:
        """Check the provider's answer (the callback's query) and return who it vouches for.

        SignInRefused (401) naming the failed check; ProviderUnavailable (502) when the
        provider cannot be asked or answers nonsense.
        """
        if answer.get("error"):
            raise SignInRefused(M_("the provider did not sign you in"))
        state = answer.get("state") or ""
        if not pending.get("state") or not hmac.compare_digest(state, pending["state"]):
            raise SignInRefused(M_("the sign-in's state does not match; start again"))
        code = answer.get("code")
        if not code:
            raise SignInRefused(M_("the provider sent no authorization code"))
        meta = self.discovery(client.issuer)
        tokens = self._exchange(meta["token_endpoint"], client, code, pending["verifier"])
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused(M_("the provider sent no ID token"))
        claims = self._verify(meta, client, id_token, pending["nonce"], tokens.get("access_token"))
        # Entra ID marks a verified domain with ``xms_edov`` (an optional claim) instead.
        verified = claims.get("email_verified")
        if verified is not True and not (verified is None and claims.get("xms_edov") is True):
            raise SignInRefused(M_("the provider has not verified this email address"))
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SignInRefused(M_("the provider sent no email address"))
        name = claims.get("name") if isinstance(claims.get("name"), str) else ""
        return Identity(str(claims["sub"]), email.strip().lower(), name)

    def _exchange(self, endpoint: str, client: Client, code: str, verifier: str) -> dict:
        basic = base64.b64encode(
            f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}".encode()
        ).decode()
        try:
            reply = outbound.send(
                self.guard,
                self.limits,
                "POST",
                endpoint,
                name="provider's token endpoint",
                headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": client.redirect_uri,
                    "code_verifier": verifier,
                },
            )
        except LrsError as exc:  # UnsafeUrl, OutboundFailed
            raise ProviderUnavailable(
                M_("the provider's token endpoint: %(why)s", why=exc.message)
            ) from None
        if reply.status == 400 or reply.status == 401:
            raise SignInRefused(M_("the provider refused the authorization code"))
        if reply.status != 200:
            raise ProviderUnavailable(
                M_("the provider's token endpoint answered %(status)s", status=reply.status)
            )
        tokens = _json(reply.body, "provider's token answer")
        if not isinstance(tokens, dict):
            raise ProviderUnavailable(M_("the provider's token answer is not an object"))
        return tokens

    def _verify(
        self, meta: dict, client: Client, id_token: str, nonce: str, access_token: Any
    ) -> dict[str, Any]:
        kid = _kid(id_token)
        keys = self._keys(meta["jwks_uri"], kid)
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError, TypeError):
            raise SignInRefused(M_("the ID token's signature does not verify")) from None
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": client.issuer.rstrip("/")},
                "aud": {"essential": True, "value": client.client_id},
                "nonce": {"essential": True, "value": nonce},
            },
            params={
                "nonce": nonce,
                "client_id": client.client_id,
                "access_token": access_token if isinstance(access_token, str) else None,
            },
        )
        try:
            claims.validate(leeway=self.config.leeway_seconds)
        except JoseError as exc:
            which = getattr(exc, "claim", None) or str(exc)
            raise SignInRefused(
                M_("the ID token's claims do not hold: %(claim)s", claim=which)
            ) from None
        return dict(claims)


def _kid(id_token: str) -> str | None:
    """The ``kid`` of a compact JWS's header, read with the strict reader; None if absent."""
    head = id_token.split(".", 1)[0]
    try:
        header = read_json(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)), root="header")
    except (LrsError, ValueError):
        raise SignInRefused(M_("the ID token is not a signed JWT")) from None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def _json(body: bytes, what: str) -> Any:
    try:
        return read_json(body, root=what)
    except LrsError:
        raise ProviderUnavailable(M_("%(what)s is not JSON we accept", what=_the(what))) from None


def install(app: Flask, config: OidcConfig) -> None:
    """Make ``config`` the app's single sign-on settings (``create_app`` calls this)."""
    app.extensions[EXTENSION] = RelyingParty(config)


def relying_party() -> RelyingParty:
    """The app's relying party (``install``); built from the environment if it was not."""
    party = current_app.extensions.get(EXTENSION)
    if party is None:
        party = current_app.extensions[EXTENSION] = RelyingParty(OidcConfig.from_env())
    return party
