"""Connector secrets at rest: generated here, stored sealed, opened only to verify.

Verifying an HMAC (GitHub) or comparing a token (GitLab, Gerrit) needs the secret itself, so
a one-way hash like the credentials' scrypt cannot work. The secret is sealed by
``lrs.sealing`` (AES-256-GCM under a key derived from ``LEARNLOOP_SECRET_KEY``, else the key
file of the instance directory, see ``services.secret_box``); the connector's id is the
associated data, so a sealed secret copied onto another connector does not open. A database
dump alone reveals no secret. Without a key nothing is sealed or opened (SecretsUnavailable,
503): there is deliberately no plain-text fallback. Secrets are never logged; they are shown
once, when created or rotated.
"""

from __future__ import annotations

import secrets

from lrs import sealing

#: The HKDF info of connector secrets: kept as it was, so secrets sealed before still open.
PURPOSE = b"learnloop connectors: webhook secrets v1"


def new_secret() -> str:
    """A fresh webhook secret: 256 random bits, URL-safe (it may travel in a Gerrit URL)."""
    return secrets.token_urlsafe(32)


class SecretBox(sealing.SecretBox):
    """Seals and opens connector secrets with the key derived from ``LEARNLOOP_SECRET_KEY``."""

    def __init__(self, master_key: str) -> None:
        super().__init__(master_key, PURPOSE, "connector secret")
