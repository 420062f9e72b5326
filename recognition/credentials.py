"""Open Badges 3.0 credentials: each award as a W3C Verifiable Credential, signed as a VC-JWT.

The issuer is the organisation (the store): its profile is at ``/badges/issuers/<store_id>``
and its public keys at ``/badges/issuers/<store_id>/jwks.json``, so anyone can check a
credential with any JOSE library. The key pair is the store's own (RSA-2048, RS256), made on
first use; the private half is sealed at rest like the LTI tool's keys (``lrs.sealing``, its
own HKDF purpose). After ``LEARNLOOP_SECRET_KEY`` changes, the next award makes a new key
instead of resealing: issued credentials only ever need the public halves.

The JWT follows OB 3.0 §8.2 (VC-JWT): ``vc`` holds the credential, ``iss`` its issuer id,
``jti`` its id, ``nbf`` its ``validFrom``. The earner is named by a salted SHA-256 of their
email (an ``IdentityObject``), not in the clear.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.models import Store
from lrs.sealing import SecretBox
from lti import jose
from recognition.models import Badge, IssuerKey

PURPOSE = b"learnloop recognition: badge issuer keys v1"
CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
TYPES = ["VerifiableCredential", "AchievementCredential"]


def key_box(secret: str) -> SecretBox:
    return SecretBox(secret, PURPOSE, "badge issuer key")


def _context(store_id: int, kid: str) -> str:
    return f"badge-issuer-key:{store_id}:{kid}"


def issuer_id(base_url: str, store_id: int) -> str:
    return f"{base_url.rstrip('/')}/badges/issuers/{store_id}"


def jwks_url(base_url: str, store_id: int) -> str:
    return issuer_id(base_url, store_id) + "/jwks.json"


def achievement_id(base_url: str, badge_id: int) -> str:
    return f"{base_url.rstrip('/')}/badges/{badge_id}"


def _current_key(session: Session, store_id: int, now_ms: int, box: SecretBox) -> IssuerKey:
    key = session.scalar(
        select(IssuerKey)
        .where(IssuerKey.store_id == store_id)
        .order_by(IssuerKey.id.desc())
        .limit(1)
    )
    if key is None or not box.opens(key.private_jwk, _context(store_id, key.kid)):
        # None yet, or sealed under a secret key since rotated (docs/secrets.md): a new key
        # signs from now on; the old public keys stay published, so old credentials verify.
        private, public = jose.generate_key()
        key = IssuerKey(
            store_id=store_id,
            kid=private["kid"],
            private_jwk=box.seal(json.dumps(private), _context(store_id, private["kid"])),
            public_jwk=json.dumps(public),
            created_ms=now_ms,
        )
        session.add(key)
        session.flush()
    return key


def published_keys(session: Session, store_id: int) -> dict:
    """The store's JWKS: every issuer key it has signed with (credentials outlive keys)."""
    rows = session.scalars(select(IssuerKey).where(IssuerKey.store_id == store_id))
    return {"keys": [json.loads(row.public_jwk) for row in rows]}


def issuer_profile(session: Session, base_url: str, store_id: int) -> dict | None:
    """The OB 3.0 ``Profile`` of the store as an issuer; None for an unknown store."""
    store = session.get(Store, store_id)
    if store is None:
        return None
    return {
        "@context": CONTEXTS,
        "id": issuer_id(base_url, store_id),
        "type": ["Profile"],
        "name": store.name,
        "url": base_url.rstrip("/") + "/",
    }


def achievement(base_url: str, badge: Badge, criteria_words: list[str]) -> dict:
    """The OB 3.0 ``Achievement`` of a badge: what it is and what earns it."""
    narrative = "; ".join(criteria_words) or badge.description or badge.name
    rule = {"all": "All of", "any": "Any of", "k_of_n": f"{badge.k} of"}.get(badge.rule, "")
    data = {
        "id": achievement_id(base_url, badge.id),
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description or badge.name,
        "criteria": {"narrative": f"{rule}: {narrative}" if rule else narrative},
    }
    return data


def _timestamp(at_ms: int) -> str:
    moment = dt.datetime.fromtimestamp(at_ms // 1000, dt.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def credential(
    *,
    base_url: str,
    store_id: int,
    store_name: str,
    credential_id: str,
    badge_achievement: dict,
    email: str | None,
    awarded_ms: int,
    evidence: list[str],
) -> dict:
    """The unsigned OB 3.0 credential of one award (pure but for the salt)."""
    subject: dict = {"type": ["AchievementSubject"], "achievement": badge_achievement}
    if email:
        salt = secrets.token_hex(8)
        digest = hashlib.sha256((email.lower() + salt).encode()).hexdigest()
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": f"sha256${digest}",
                "salt": salt,
            }
        ]
    data = {
        "@context": CONTEXTS,
        "id": credential_id,
        "type": TYPES,
        "issuer": {
            "id": issuer_id(base_url, store_id),
            "type": ["Profile"],
            "name": store_name,
        },
        "validFrom": _timestamp(awarded_ms),
        "name": badge_achievement["name"],
        "credentialSubject": subject,
    }
    if evidence:
        data["evidence"] = [
            {"type": ["Evidence"], "id": f"urn:uuid:{statement_id}", "name": "xAPI statement"}
            for statement_id in evidence[:20]
        ]
    return data


def sign(session: Session, store_id: int, vc: dict, now_ms: int, box: SecretBox) -> str:
    """The credential as a compact VC-JWT signed with the store's issuer key (RS256)."""
    key = _current_key(session, store_id, now_ms, box)
    claims = {
        "iss": vc["issuer"]["id"],
        "jti": vc["id"],
        "nbf": int(now_ms // 1000),
        "iat": int(now_ms // 1000),
        "vc": vc,
    }
    return jose.sign(claims, box.open(key.private_jwk, _context(store_id, key.kid)), "JWT")


def decode_unverified(token: str) -> dict:
    """The claims of a VC-JWT this store signed (for showing it; no signature check)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
