"""Secrets at rest: sealed with AES-256-GCM under a key derived from the instance secret.

Some secrets must be used, not just compared: a webhook secret verifies an HMAC (connectors),
a private key signs (the LTI tool). A one-way hash like the credentials' scrypt cannot serve,
so they are sealed: AES-256-GCM under a key derived (HKDF-SHA256) from the app's secret key
(``LEARNLOOP_SECRET_KEY``, else the key file of the instance directory, see
``LrsRuntime.instance_secret``). Each kind of secret derives its own key (``purpose``), and a
sealed value names what it belongs to (``context``, the associated data), so a value copied
onto another row does not open. A database dump alone reveals nothing. Without a key nothing is
sealed or opened (SecretsUnavailable, 503): there is deliberately no plain-text fallback.

Sealed values read ``v1.`` followed by URL-safe base64 of the 12-byte nonce and the
ciphertext. ``docs/secrets.md`` says how to move every sealed value to a new key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lrs.errors import SecretsUnavailable

PREFIX = "v1."


def is_sealed(stored: str | None) -> bool:
    """Whether ``stored`` has the form of a sealed value (it may still not open)."""
    return isinstance(stored, str) and stored.startswith(PREFIX)


class SecretBox:
    """Seals and opens one kind of secret with the key derived from the instance secret.

    ``purpose`` names the kind (the HKDF info, so each kind has its own key); ``what`` names
    it in messages ("connector secret", "LTI tool private key").
    """

    def __init__(self, master_key: str, purpose: bytes, what: str) -> None:
        self.what = what
        if not master_key:
            raise SecretsUnavailable(
                f"a {what} needs LEARNLOOP_SECRET_KEY; the operator must set it"
            )
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
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
            if not is_sealed(stored):
                raise ValueError("unknown format")
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError):
            raise SecretsUnavailable(
                f"a stored {self.what} cannot be decrypted: LEARNLOOP_SECRET_KEY differs "
                "from the key that sealed it"
            ) from None

    def opens(self, stored: str, context: str) -> bool:
        """Whether this box opens ``stored`` (for re-sealing: which key sealed a value)."""
        try:
            self.open(stored, context)
        except SecretsUnavailable:
            return False
        return True


@dataclass(frozen=True)
class Sealed:
    """One sealed value, for re-sealing.

    The row and attribute holding it, its context, and how messages name it
    (``forwarding destination 3``).
    """

    row: Any
    attribute: str
    context: str
    label: str


def reseal(values: list[Sealed], old: SecretBox, new: SecretBox) -> tuple[int, int]:
    """Seal each value with ``new`` instead of ``old``; returns (resealed, kept).

    In the caller's transaction. Values ``new`` already opens are kept as they are, so a run
    that stopped halfway can run again. Raises SecretsUnavailable naming the values neither
    key opens, having changed nothing.
    """
    changes, kept, lost = [], 0, []
    for value in values:
        stored = getattr(value.row, value.attribute)
        if new.opens(stored, value.context):
            kept += 1
        elif old.opens(stored, value.context):
            changes.append((value, old.open(stored, value.context)))
        else:
            lost.append(value.label)
    if lost:
        raise SecretsUnavailable(
            f"{', '.join(lost)}: open with neither the old nor the new LEARNLOOP_SECRET_KEY; "
            "nothing was changed"
        )
    for value, plain in changes:
        setattr(value.row, value.attribute, new.seal(plain, value.context))
    return len(changes), kept
