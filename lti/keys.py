"""The tool's own signing keys: the current key, rotation, the published key set, signing.

Keys are tool-wide (``lti_tool_keys``), not per store. The current key signs everything the
tool sends (Deep Linking responses, client assertions, launch tokens); a retired key stays in
``/lti/jwks`` for its grace period so that what it signed can still be verified.

Issue 13: "Secrets at rest: the LTI tool's private keys are stored in plaintext while
connector secrets are sealed." They are now "sealed like connector secrets" (``lrs.sealing``,
their own derived key, the kid as associated data): the ``private_jwk`` column holds
``v1.…``, never a JWK or PEM. Rows written before migration 0012 held the JWK itself; the
sealing key belongs to the shell's configuration, which migrations cannot read, so those rows
are sealed when the tool starts (``seal_stored_keys``, from ``lti.runtime.install``) and by
the ``learnloop lti`` key commands. ``reseal_keys`` moves every key to a new sealing key
(``learnloop lti reseal-keys``, see docs/secrets.md).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from lrs import audit
from lrs.db import read_transaction, write_transaction
from lrs.errors import SecretsUnavailable
from lrs.sealing import SecretBox, is_sealed
from lti import jose
from lti.models import ToolKey

log = logging.getLogger("learnloop.lti.keys")

#: The HKDF info of tool keys: their own sealing key, apart from the connectors'.
PURPOSE = b"learnloop lti: tool private keys v1"


def key_box(secret: str) -> SecretBox:
    """The box sealing the tool's private keys under ``secret`` (the instance secret)."""
    return SecretBox(secret, PURPOSE, "LTI tool private key")


def _context(kid: str) -> str:
    return f"lti-tool-key:{kid}"


def current_key(session: Session, now_ms: int, box: SecretBox) -> ToolKey:
    """The key that signs now; created (sealed with ``box``) on first use."""
    key = session.scalar(
        select(ToolKey).where(ToolKey.retired_ms.is_(None)).order_by(ToolKey.id.desc()).limit(1)
    )
    if key is None:
        key = _new_key(session, now_ms, box)
    return key


def _new_key(session: Session, now_ms: int, box: SecretBox) -> ToolKey:
    private, public = jose.generate_key()
    key = ToolKey(
        kid=private["kid"],
        private_jwk=box.seal(json.dumps(private), _context(private["kid"])),
        public_jwk=json.dumps(public),
        created_ms=now_ms,
    )
    session.add(key)
    session.flush()
    return key


def private_jwk(key: ToolKey, box: SecretBox) -> str:
    """The key's private JWK (JSON), opened; SecretsUnavailable (503) with the wrong key."""
    return box.open(key.private_jwk, _context(key.kid))


def published_keys(session: Session, now_ms: int) -> list[dict[str, Any]]:
    """Public keys of ``/lti/jwks``: the current key(s) and retired keys still in grace."""
    rows = session.scalars(
        select(ToolKey)
        .where((ToolKey.retired_ms.is_(None)) | (ToolKey.published_until_ms > now_ms))
        .order_by(ToolKey.id.desc())
    )
    return [json.loads(row.public_jwk) for row in rows]


def rotate_keys(
    session: Session, now_ms: int, grace_seconds: int, box: SecretBox
) -> tuple[ToolKey, list[str]]:
    """Start signing with a new key; keep the old one published for ``grace_seconds``.

    Keys whose grace period has ended are deleted. Returns the new key and the retired kids.
    """
    retired = []
    for key in session.scalars(select(ToolKey).where(ToolKey.retired_ms.is_(None))):
        key.retired_ms = now_ms
        key.published_until_ms = now_ms + grace_seconds * 1000
        retired.append(key.kid)
    session.execute(delete(ToolKey).where(ToolKey.published_until_ms <= now_ms))
    session.flush()
    key = _new_key(session, now_ms, box)
    audit.record(
        session,
        "lti.key.rotated",
        store_id=None,  # the tool's signing key serves every organisation
        target=audit.Target("lti_tool_key", key.kid, key.kid),
        details={"retired_kids": retired, "grace_seconds": grace_seconds},
    )
    return key, retired


def sign_with_tool_key(
    session: Session, claims: dict[str, Any], now_ms: int, box: SecretBox, typ: str = "JWT"
) -> str:
    """``claims`` as a JWT signed with the current key (created on first use)."""
    key = current_key(session, now_ms, box)
    return jose.sign(claims, private_jwk(key, box), typ)


# ==== sealing what is stored ======================================================================


def seal_plaintext_keys(session: Session, box: SecretBox) -> list[str]:
    """Seal every key still stored as a plain JWK (written before migration 0012); their kids.

    Each row is updated only if it still holds the plain text read, so two processes that
    start at once seal each key once.
    """
    sealed = []
    for key_id, kid, stored in session.execute(
        select(ToolKey.id, ToolKey.kid, ToolKey.private_jwk)
    ).all():
        if is_sealed(stored):
            continue
        session.execute(
            update(ToolKey)
            .where(ToolKey.id == key_id, ToolKey.private_jwk == stored)
            .values(private_jwk=box.seal(stored, _context(kid)))
        )
        sealed.append(kid)
    session.flush()
    return sealed


def seal_stored_keys(sessions: sessionmaker[Session], box: SecretBox) -> list[str]:
    """At start: seal plain keys, then say (in the log) if the current key does not open.

    Takes the write lock only when there is something to seal; does nothing on a database
    without the table (not migrated yet). A sealing key that differs from the one that sealed
    the keys is logged once here, and each signing then fails with SecretsUnavailable (503),
    a message naming LEARNLOOP_SECRET_KEY, never a traceback.
    """
    with read_transaction(sessions) as session:
        if not inspect(session.connection()).has_table(ToolKey.__tablename__):
            return []
        rows = session.execute(select(ToolKey.kid, ToolKey.private_jwk)).all()
    sealed: list[str] = []
    if any(not is_sealed(stored) for _, stored in rows):
        with write_transaction(sessions) as session:
            sealed = seal_plaintext_keys(session, box)
        log.info("sealed %d LTI tool private key(s) stored in plain text", len(sealed))
    with read_transaction(sessions) as session:
        key = session.scalar(
            select(ToolKey).where(ToolKey.retired_ms.is_(None)).order_by(ToolKey.id.desc())
        )
        if key is not None:
            try:
                private_jwk(key, box)
            except SecretsUnavailable as exc:
                log.error("the LTI tool cannot sign: %s", exc.message)
    return sealed


def reseal_keys(session: Session, old: SecretBox, new: SecretBox) -> tuple[int, int]:
    """Seal every key with ``new``: those ``old`` opens, and plain ones; (resealed, kept).

    Keys that ``new`` already opens are kept as they are, so running it twice is harmless.
    Raises SecretsUnavailable naming the kids that neither key opens, and changes nothing.
    """
    resealed, kept, lost = [], 0, []
    for key in session.scalars(select(ToolKey).order_by(ToolKey.id)):
        context = _context(key.kid)
        if not is_sealed(key.private_jwk):
            resealed.append((key, key.private_jwk))
        elif new.opens(key.private_jwk, context):
            kept += 1
        elif old.opens(key.private_jwk, context):
            resealed.append((key, old.open(key.private_jwk, context)))
        else:
            lost.append(key.kid)
    if lost:
        raise SecretsUnavailable(
            f"{len(lost)} LTI tool private key(s) open with neither the old nor the new "
            f"LEARNLOOP_SECRET_KEY ({', '.join(lost)}); nothing was changed"
        )
    for key, plain in resealed:
        key.private_jwk = new.seal(plain, _context(key.kid))
    session.flush()
    audit.record(
        session,
        "lti.key.resealed",
        store_id=None,
        target=audit.Target("lti_tool_key", "", "every LTI tool key"),
        details={"resealed": len(resealed), "kept": kept},
    )
    return len(resealed), kept
