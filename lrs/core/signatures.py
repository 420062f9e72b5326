"""Signed statements: JWS compact serialisation in a signature attachment (Data 2.6).

The LRS rejects a malformed signature: not a compact JWS, an algorithm other than RS256/384/512,
a payload that is not a JSON object, a payload that differs from the statement (by the
immutability rules, so 2.0.0 compares durations to 0.01 s), or, when ``x5c`` names the signing
certificate, a signature that does not verify with its key.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lrs.core.attachments import SIGNATURE_USAGE
from lrs.core.statements import same_statement
from lrs.core.versions import V103
from lrs.errors import BadRequest, FieldError
from schemas.jsoninput import JsonInputError, read_json

ALGORITHMS = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


class SignatureError(BadRequest):
    """The signature attachment of a statement is malformed or does not match it."""


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def signature_attachments(statement: dict) -> list[tuple[int, dict]]:
    return [
        (j, a)
        for j, a in enumerate(statement.get("attachments") or ())
        if a.get("usageType") == SIGNATURE_USAGE
    ]


def verify(statement: dict, jws: bytes, version: str, path: str) -> None:
    """Raise SignatureError unless ``jws`` is a valid signature of ``statement``."""

    def fail(message: str) -> SignatureError:
        return SignatureError(f"{path}: {message}", [FieldError(path, message)])

    try:
        text = bytes(jws).decode("ascii").strip()
        header_b64, payload_b64, signature_b64 = text.split(".")
        header_json, payload_json = _b64url(header_b64), _b64url(payload_b64)
        signature = _b64url(signature_b64)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise fail("the signature is not a JWS in compact serialization") from None
    try:
        header = read_json(header_json, root="header")
        payload = read_json(payload_json, root="payload", unique_keys=version != V103)
    except JsonInputError as exc:
        raise fail(f"the JWS {exc.message}") from None
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise fail("the JWS algorithm must be RS256, RS384 or RS512")
    if not isinstance(payload, dict):
        raise fail("the JWS payload must be the statement as a JSON object")
    if "x5c" in header:
        _verify_with_certificate(header, f"{header_b64}.{payload_b64}".encode(), signature, fail)
    unsigned = {k: v for k, v in statement.items() if k != "attachments"}
    payload = {k: v for k, v in payload.items() if k != "attachments"}
    try:
        equal = same_statement(payload, unsigned, version)
    except (KeyError, TypeError, AttributeError):
        equal = False
    if not equal:
        raise fail("the JWS payload does not match the statement")


def _verify_with_certificate(header: dict, signed: bytes, signature: bytes, fail) -> None:
    chain = header["x5c"]
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        key = certificate.public_key()
    except (ValueError, TypeError, IndexError, KeyError, binascii.Error):
        raise fail("the x5c certificate cannot be read") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise fail("the x5c certificate must hold an RSA key")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), ALGORITHMS[header["alg"]]())
    except InvalidSignature:
        raise fail("the JWS signature does not verify with the x5c certificate") from None
