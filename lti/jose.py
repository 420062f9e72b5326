"""JSON Web Tokens and keys for LTI: read a header, verify RS256, sign with a tool key.

Pure: no Flask, no database, no network. The header is read *before* verification only to
choose the key (``kid``) and refuse every algorithm but RS256; nothing else in an unverified
token is trusted. Signing and verification use joserfc.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from lti.errors import BadSignature, MalformedToken
from schemas.errors import PayloadTooLarge
from schemas.jsoninput import JsonInputError, read_json

ALGORITHM = "RS256"
#: JWS headers above this size are refused before parsing (a platform's are ~100 bytes).
MAX_TOKEN_BYTES = 64 * 1024


def _b64url(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedToken("the id_token is not base64url-encoded") from None


def read_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS, unverified. MalformedToken if it is not a JWS."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise MalformedToken("the id_token is not a JWT of a sensible size")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise MalformedToken("the id_token is not a compact JWT (header.payload.signature)")
    # Read strictly before anything trusts them (schemas.jsoninput): bounded depth, finite
    # numbers, no duplicate claims (RFC 7519 §4 lets a parser refuse them), no NUL. The
    # verified claims are these same bytes, so what is checked here is what is used.
    try:
        header = read_json(_b64url(parts[0]), root="header", max_bytes=MAX_TOKEN_BYTES)
        payload = read_json(_b64url(parts[1]), root="payload", max_bytes=MAX_TOKEN_BYTES)
    except (JsonInputError, PayloadTooLarge) as exc:
        raise MalformedToken(f"the id_token's {exc.message}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedToken("the id_token's header and payload must be JSON objects")
    return header


def verify(token: str, public_jwk: dict[str, Any]) -> dict[str, Any]:
    """The claims of an RS256 JWT signed by this key; BadSignature otherwise."""
    try:
        key = RSAKey.import_key(public_jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise BadSignature("the platform's key for this kid is not a usable RSA key") from None
    try:
        return dict(jwt.decode(token, key, algorithms=[ALGORITHM]).claims)
    except (JoseError, ValueError):
        raise BadSignature(
            "the id_token's signature does not verify with the platform key"
        ) from None


@functools.lru_cache(maxsize=8)
def load_private(private_jwk_json: str) -> tuple[RSAKey, str]:
    """The signing key and its kid from a stored private JWK.

    Cached: importing an RSA private key checks its primes, about 35 ms of CPU, which would
    otherwise dominate every launch. The cache holds the few current and retired keys.
    """
    private = json.loads(private_jwk_json)
    return RSAKey.import_key(private), private["kid"]


def sign(claims: dict[str, Any], private_jwk_json: str, typ: str = "JWT") -> str:
    """A compact RS256 JWT of ``claims`` with the key's ``kid`` in the header."""
    key, kid = load_private(private_jwk_json)
    header = {"alg": ALGORITHM, "kid": kid, "typ": typ}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def verify_own(token: str, keys: list[dict[str, Any]], typ: str) -> dict[str, Any]:
    """Claims of a token this tool signed with one of ``keys`` and header ``typ``.

    Raises MalformedToken or BadSignature; the caller checks the claims.
    """
    header = read_header(token)
    if header.get("alg") != ALGORITHM or header.get("typ") != typ:
        raise BadSignature("not a token of this kind")
    match = [k for k in keys if k.get("kid") == header.get("kid")]
    if not match:
        raise BadSignature("signed by a key this tool does not hold")
    return verify(token, match[0])


def generate_key(kid: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new RSA-2048 signing key: its private and public JWKs, ``kid`` = RFC 7638 thumbprint."""
    key = RSAKey.generate_key(2048, private=True)
    private = dict(key.as_dict(private=True))
    kid = kid or key.thumbprint()
    private.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    public = public_jwk(private)
    return private, public


def public_jwk(private: dict[str, Any]) -> dict[str, Any]:
    """The public half of an RSA JWK, as published in a key set."""
    return {
        "kty": "RSA",
        "n": private["n"],
        "e": private["e"],
        "kid": private["kid"],
        "alg": ALGORITHM,
        "use": "sig",
    }
