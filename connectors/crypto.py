"""Connector secrets at rest: generated here, stored encrypted, decrypted only to verify.

Verifying an HMAC (GitHub) or comparing a token (GitLab, Gerrit) needs the secret itself, so
a one-way hash like the credentials' scrypt cannot work. The secret is sealed with AES-256-GCM
under a key derived (HKDF-SHA256) from the app's secret key (``LEARNLOOP_SECRET_KEY``, else
the key file of the instance directory, see ``services.secret_box``); the connector's id is
the associated data, so a sealed secret copied onto another connector does not open. A
database dump alone reveals no secret. Without a key nothing is sealed or opened
(SecretsUnavailable, 503): there is deliberately no plain-text fallback. Secrets are never
logged; they are shown once, when created or rotated.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from connectors.errors import SecretsUnavailable

PREFIX = "v1."
_INFO = b"learnloop connectors: webhook secrets v1"


def new_secret() -> str:
    """A fresh webhook secret: 256 random bits, URL-safe (it may travel in a Gerrit URL)."""
    return secrets.token_urlsafe(32)


class SecretBox:
    """Seals and opens connector secrets with the key derived from ``LEARNLOOP_SECRET_KEY``."""

    def __init__(self, master_key: str) -> None:
        if not master_key:
            raise SecretsUnavailable(
                "connector secrets need LEARNLOOP_SECRET_KEY; the operator must set it"
            )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            master_key.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, secret: str, context: str) -> str:
        """The stored form of ``secret``, bound to ``context`` (e.g. ``connector:12``)."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        """The secret sealed in ``stored``; SecretsUnavailable if the key or context differ."""
        try:
            if not stored.startswith(PREFIX):
                raise ValueError("unknown format")
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError):
            raise SecretsUnavailable(
                "a stored connector secret cannot be decrypted: LEARNLOOP_SECRET_KEY differs "
                "from the key that encrypted it"
            ) from None
