"""The tool's own signing keys: the current key, rotation, the published key set, signing.

Keys are tool-wide (``lti_tool_keys``), not per store. The current key signs everything the
tool sends (Deep Linking responses, client assertions, launch tokens); a retired key stays in
``/lti/jwks`` for its grace period so that what it signed can still be verified.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti import jose
from lti.models import ToolKey


def current_key(session: Session, now_ms: int) -> ToolKey:
    """The key that signs now; created on first use."""
    key = session.scalar(
        select(ToolKey).where(ToolKey.retired_ms.is_(None)).order_by(ToolKey.id.desc()).limit(1)
    )
    if key is None:
        key = _new_key(session, now_ms)
    return key


def _new_key(session: Session, now_ms: int) -> ToolKey:
    private, public = jose.generate_key()
    key = ToolKey(
        kid=private["kid"],
        private_jwk=json.dumps(private),
        public_jwk=json.dumps(public),
        created_ms=now_ms,
    )
    session.add(key)
    session.flush()
    return key


def published_keys(session: Session, now_ms: int) -> list[dict[str, Any]]:
    """Public keys of ``/lti/jwks``: the current key(s) and retired keys still in grace."""
    rows = session.scalars(
        select(ToolKey)
        .where((ToolKey.retired_ms.is_(None)) | (ToolKey.published_until_ms > now_ms))
        .order_by(ToolKey.id.desc())
    )
    return [json.loads(row.public_jwk) for row in rows]


def rotate_keys(session: Session, now_ms: int, grace_seconds: int) -> tuple[ToolKey, list[str]]:
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
    return _new_key(session, now_ms), retired


def sign_with_tool_key(session: Session, claims: dict[str, Any], now_ms: int, typ: str = "JWT"):
    key = current_key(session, now_ms)
    return jose.sign(claims, key.private_jwk, typ)
