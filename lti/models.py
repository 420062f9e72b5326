"""Tables of the LTI tool. Every row belongs to a store, except the tool's own signing keys.

Times the tool computes with (expiry, use, score timestamps) are integer milliseconds since the
epoch, like ``statements.stored_ms``: comparisons then mean the same on SQLite and PostgreSQL;
``utc`` shows them. ``get_or_create`` finds or adds a row by its unique key, safe under
concurrent inserts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs.models import Base


class ToolKey(Base):
    """One RSA key pair of the tool, published at ``/lti/jwks`` while it is current or in grace.

    Tool-wide, not per store: ``/lti/jwks`` is one URL that every platform is configured with,
    and a key is what identifies this tool installation, not a tenant.
    """

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_jwk: Mapped[str] = mapped_column(
        Text, comment="private RSA JWK (JSON), AES-GCM sealed under LEARNLOOP_SECRET_KEY (lti.keys)"
    )
    public_jwk: Mapped[str] = mapped_column(Text, comment="public RSA JWK, JSON")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    retired_ms: Mapped[int | None] = mapped_column(
        BigInteger, comment="when a newer key took over signing; null while current"
    )
    published_until_ms: Mapped[int | None] = mapped_column(
        BigInteger, comment="end of the grace period in which the retired key stays published"
    )


class Registration(Base):
    """A platform registration, keyed by (issuer, client_id): Canvas uses one issuer for all."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text, comment="OIDC authorization endpoint")
    auth_token_url: Mapped[str] = mapped_column(Text, comment="OAuth2 token endpoint")
    auth_audience: Mapped[str | None] = mapped_column(
        Text, comment="aud of our client assertions when not the token URL"
    )
    key_set_url: Mapped[str] = mapped_column(Text, comment="platform JWKS URL")
    source: Mapped[str] = mapped_column(String(20), default="api", comment="cli, api, dynamic")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_launch_ms: Mapped[int | None] = mapped_column(BigInteger, comment="the latest launch")
    last_launch: Mapped[str | None] = mapped_column(
        Text,
        comment="what the latest launch carried: message type, AGS scopes, NRPS, whether name "
        "and email were shared (JSON; lti.checks)",
    )
    privacy_warning_ms: Mapped[int | None] = mapped_column(
        BigInteger,
        comment="when a launch without name or email was first seen; null once both came again",
    )
    privacy_dismissed_ms: Mapped[int | None] = mapped_column(
        BigInteger, comment="when an admin dismissed that warning"
    )


class Deployment(Base):
    """A deployment id allowed for a registration (one per install or placement)."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))


class LoginState(Base):
    """A login in progress: the state bound to the browser and the nonce issued with it."""

    __tablename__ = "lti_login_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    state: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    storage_target: Mapped[str | None] = mapped_column(
        String(100), comment="lti_storage_target frame when the platform offered storage"
    )
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    used_ms: Mapped[int | None] = mapped_column(BigInteger)


class UsedNonce(Base):
    """A nonce of an accepted launch; the unique constraint makes replays fail atomically."""

    __tablename__ = "lti_used_nonces"
    __table_args__ = (UniqueConstraint("registration_id", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    nonce: Mapped[str] = mapped_column(String(64))
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class Context(Base):
    """A course (LTI context) seen in a launch, with its roster service."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    activity_iri: Mapped[str] = mapped_column(Text)
    memberships_url: Mapped[str | None] = mapped_column(Text, comment="NRPS endpoint")
    differences_url: Mapped[str | None] = mapped_column(
        Text, comment="NRPS rel=differences link of the last full sync"
    )
    roster_synced_ms: Mapped[int | None] = mapped_column(BigInteger)


class ResourceLink(Base):
    """A placement of the tool in a course, with its gradebook (AGS) endpoints."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="SET NULL")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    activity_iri: Mapped[str] = mapped_column(Text, comment="xAPI Activity id of the link")
    placed_activity: Mapped[str | None] = mapped_column(
        Text, comment="learnloop_activity custom parameter: the learning activity placed here"
    )
    objective_template: Mapped[str | None] = mapped_column(
        String(255), comment="learnloop_objective_template custom parameter"
    )
    lineitems_url: Mapped[str | None] = mapped_column(Text)
    lineitem_url: Mapped[str | None] = mapped_column(Text, comment="the coupled line item")
    ags_scopes: Mapped[str] = mapped_column(Text, default="", comment="space-separated")
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class Launch(Base):
    """One accepted launch; the signed launch token of the pages after it points here."""

    __tablename__ = "lti_launches"
    __table_args__ = (Index("ix_lti_launches_store_sub", "store_id", "registration_id", "sub"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="SET NULL")
    )
    resource_link_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    message_type: Mapped[str] = mapped_column(String(50))
    sub: Mapped[str] = mapped_column(String(255))
    roles: Mapped[str] = mapped_column(Text, comment="normalized role URIs, JSON array")
    settings: Mapped[str] = mapped_column(
        Text, default="{}", comment="deep_linking_settings and launch_presentation, JSON"
    )
    statement_id: Mapped[str] = mapped_column(String(36))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Membership(Base):
    """A course member as NRPS last reported them, linked to a person."""

    __tablename__ = "lti_memberships"
    __table_args__ = (UniqueConstraint("context_pk", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    context_pk: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    roles: Mapped[str] = mapped_column(Text, default="[]", comment="JSON array")
    status: Mapped[str] = mapped_column(String(20), default="Active")
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class ScoreMark(Base):
    """The last score timestamp sent per (registration, line item, user): AGS needs them rising."""

    __tablename__ = "lti_score_marks"
    __table_args__ = (UniqueConstraint("registration_id", "lineitem_hash", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    lineitem_hash: Mapped[str] = mapped_column(String(64), comment="sha256 hex of the URL")
    lineitem_url: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(255))
    last_ms: Mapped[int] = mapped_column(BigInteger)


class RegistrationInvite(Base):
    """A single-use dynamic registration link an administrator gives an LMS administrator."""

    __tablename__ = "lti_registration_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 hex")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    used_ms: Mapped[int | None] = mapped_column(BigInteger)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="SET NULL")
    )


class GradeDelivery(Base):
    """One attempt to send a score to an LMS gradebook, and the platform's answer.

    The log admins read on the LMS page; ``outcome`` is ``sent``, ``error`` (retried) or
    ``failed`` (an administrator must act; ``answer`` says what).
    """

    __tablename__ = "lti_grade_deliveries"
    __table_args__ = (
        Index("ix_lti_grade_deliveries_subject", "link_id", "user_sub", "subject"),
        Index("ix_lti_grade_deliveries_store", "store_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_resource_links.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    user_sub: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(300), comment="objective:12, activity:<IRI>")
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10), comment="sent, error, failed")
    status: Mapped[int] = mapped_column(Integer, comment="the platform's HTTP status; 0: none")
    answer: Mapped[str] = mapped_column(Text, default="")
    score_timestamp: Mapped[str | None] = mapped_column(String(40))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class RosterLoad(Base):
    """One load of a course's roster from the LMS (NRPS), and what the LMS answered.

    The roster log of the connection check; ``outcome`` is ``loaded`` or ``failed`` (``answer``
    says why, in the LMS's terms).
    """

    __tablename__ = "lti_roster_loads"
    __table_args__ = (Index("ix_lti_roster_loads_registration", "registration_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(String(10), comment="loaded, failed")
    members: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str] = mapped_column(Text, default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)


def get_or_create(session: Session, model, match: dict[str, Any], defaults: dict[str, Any]):
    """The row matching the unique key, created if missing (safe under concurrent inserts)."""
    query = select(model).filter_by(**match)
    row = session.scalar(query)
    if row is not None:
        return row, False
    try:
        with session.begin_nested():
            row = model(**match, **defaults)
            session.add(row)
    except IntegrityError:
        row = session.scalar(query)
        if row is None:
            raise
        return row, False
    return row, True


def utc(ms: int | None) -> str:
    """An ms timestamp as ISO 8601 UTC (for display and the admin API)."""
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
