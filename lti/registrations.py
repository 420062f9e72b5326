"""Platform registrations and their deployments, kept by hand or by Dynamic Registration.

An administrator registers a platform (admin API, CLI or admin page) with ``create_registration``;
a platform registers itself with an invite (``create_invite``, then ``check_invite``,
``fetch_platform_configuration``, ``register_with_platform`` and
``complete_dynamic_registration``, in that order, from ``/lti/register``). The pure protocol
rules of Dynamic Registration are in ``lti.dynreg``.

Callers own the session and the transaction; nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lrs import audit
from lrs.errors import Conflict, NotFound
from lti import dynreg, grants
from lti.errors import (
    AmbiguousRegistration,
    DynamicRegistrationFailed,
    InviteInvalid,
    PlatformServiceError,
    UnknownRegistration,
)
from lti.launch import origin
from lti.models import Deployment, Registration, RegistrationInvite, utc

if TYPE_CHECKING:
    from lti.runtime import LtiRuntime


# ==== registrations and deployments ==============================================================


@dataclass
class RegistrationData:
    """What an administrator (or dynamic registration) says about a platform."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: list[str] = field(default_factory=list)
    auth_audience: str | None = None
    name: str = ""


def check_registration_urls(data: RegistrationData, runtime: LtiRuntime) -> None:
    """Every platform URL must pass the outbound guard; UnsafeUrl (400) names the field.

    The hosts are resolved and every address checked now, where the URL is given; each call
    checks again when it connects (``lrs.outbound``).
    """
    http = runtime.http
    http.check(data.auth_login_url, "auth_login_url")
    http.check(data.auth_token_url, "auth_token_url")
    http.check(data.key_set_url, "key_set_url")


def create_registration(
    session: Session, store_id: int, data: RegistrationData, source: str = "api"
) -> Registration:
    """Store a registration with its deployments; Conflict if (issuer, client_id) exists."""
    exists = session.scalar(
        select(Registration.id).where(
            Registration.issuer == data.issuer, Registration.client_id == data.client_id
        )
    )
    if exists is not None:
        raise Conflict(
            f"a registration for issuer {data.issuer!r} and client id {data.client_id!r} exists"
        )
    registration = Registration(
        store_id=store_id,
        name=data.name or data.issuer,
        issuer=data.issuer,
        client_id=data.client_id,
        auth_login_url=data.auth_login_url,
        auth_token_url=data.auth_token_url,
        auth_audience=data.auth_audience or None,
        key_set_url=data.key_set_url,
        source=source,
    )
    session.add(registration)
    session.flush()
    for deployment_id in dict.fromkeys(data.deployment_ids):
        session.add(
            Deployment(
                store_id=store_id, registration_id=registration.id, deployment_id=deployment_id
            )
        )
    session.flush()
    audit.record(
        session,
        "lti.registration.created",
        store_id=store_id,
        target=_target(registration),
        details={
            "source": source,
            "issuer": data.issuer,
            "client_id": data.client_id,
            "deployment_ids": list(dict.fromkeys(data.deployment_ids)),
        },
    )
    return registration


def _target(registration: Registration) -> audit.Target:
    return audit.Target("lti_registration", registration.id, registration.name)


def deployment_ids(session: Session, registration_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Deployment.deployment_id)
            .where(Deployment.registration_id == registration_id)
            .order_by(Deployment.id)
        )
    )


def registration_view(session: Session, registration: Registration) -> dict[str, Any]:
    """A registration as the admin API shows it."""
    return {
        "id": registration.id,
        "name": registration.name,
        "issuer": registration.issuer,
        "client_id": registration.client_id,
        "deployment_ids": deployment_ids(session, registration.id),
        "auth_login_url": registration.auth_login_url,
        "auth_token_url": registration.auth_token_url,
        "auth_audience": registration.auth_audience,
        "key_set_url": registration.key_set_url,
        "source": registration.source,
        "last_launch_at": utc(registration.last_launch_ms) or None,
        "privacy_warning": grants.privacy_warning(registration),
    }


def list_registrations(session: Session, store_id: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration).where(Registration.store_id == store_id).order_by(Registration.id)
        )
    )


def get_registration(session: Session, store_id: int, registration_id: int) -> Registration:
    """A registration of this store; NotFound for another store's (no existence leak)."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.store_id != store_id:
        raise NotFound(f"no LTI registration {registration_id} in this store")
    return registration


def update_registration(
    session: Session, registration: Registration, changes: dict[str, Any]
) -> Registration:
    """Change URLs, audience, name or the whole deployment list of a registration."""
    changed: dict[str, Any] = {}
    for name in ("name", "auth_login_url", "auth_token_url", "key_set_url", "auth_audience"):
        if name in changes:
            value = changes[name] or (None if name == "auth_audience" else "")
            if getattr(registration, name) != value:
                changed[name] = value
            setattr(registration, name, value)
    if "deployment_ids" in changes:
        if list(dict.fromkeys(changes["deployment_ids"])) != deployment_ids(
            session, registration.id
        ):
            changed["deployment_ids"] = list(dict.fromkeys(changes["deployment_ids"]))
        wanted = list(dict.fromkeys(changes["deployment_ids"]))
        session.execute(
            delete(Deployment).where(
                Deployment.registration_id == registration.id,
                Deployment.deployment_id.not_in(wanted),
            )
        )
        have = set(deployment_ids(session, registration.id))
        for deployment_id in wanted:
            if deployment_id not in have:
                session.add(
                    Deployment(
                        store_id=registration.store_id,
                        registration_id=registration.id,
                        deployment_id=deployment_id,
                    )
                )
    session.flush()
    if changed:
        audit.record(
            session,
            "lti.registration.changed",
            store_id=registration.store_id,
            target=_target(registration),
            details=changed,
        )
    return registration


def delete_registration(session: Session, registration: Registration) -> None:
    audit.record(
        session,
        "lti.registration.deleted",
        store_id=registration.store_id,
        target=_target(registration),
        details={"issuer": registration.issuer, "client_id": registration.client_id},
    )
    session.delete(registration)
    session.flush()


# ==== the registration of a login ================================================================


def _storable(value: str | None, limit: int) -> bool:
    return value is None or (len(value) <= limit and "\x00" not in value)


def find_registration(session: Session, issuer: str, client_id: str | None) -> Registration:
    """The registration a login names; client_id is needed when the issuer has several."""
    if not _storable(issuer, 500) or not _storable(client_id, 255):
        raise UnknownRegistration("this tool has no registration for this issuer and client id")
    query = select(Registration).where(Registration.issuer == issuer)
    if client_id:
        query = query.where(Registration.client_id == client_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        detail = f" and client id {client_id!r}" if client_id else ""
        raise UnknownRegistration(
            f"this tool has no registration for issuer {issuer!r}{detail}; an administrator "
            "registers the platform first"
        )
    if len(found) > 1:
        raise AmbiguousRegistration(
            f"issuer {issuer!r} has several registrations; the platform must send client_id"
        )
    return found[0]


def platform_origins(registration: Registration) -> list[str]:
    """Origins a page of this registration may be framed by (CSP frame-ancestors)."""
    origins = []
    for url in (registration.issuer, registration.auth_login_url):
        try:
            value = origin(url)
        except ValueError:
            continue
        if value.startswith(("https://", "http://")) and value not in origins:
            origins.append(value)
    return origins


# ==== invites and dynamic registration ===========================================================


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_invite(session: Session, store_id: int, now_ms: int, ttl: int) -> str:
    """A single-use dynamic registration token for this store (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        RegistrationInvite(
            store_id=store_id,
            token_hash=_sha256(token),
            created_ms=now_ms,
            expires_ms=now_ms + ttl * 1000,
        )
    )
    session.flush()
    audit.record(
        session,
        "lti.invite.created",
        store_id=store_id,
        target=audit.Target("lti_invite", "", "dynamic registration link"),
        details={"expires_in_seconds": ttl},
    )
    return token


def check_invite(session: Session, token: str | None, now_ms: int) -> RegistrationInvite:
    if not token:
        raise InviteInvalid(
            "this registration link has no invite; ask the Learnloop administrator for one"
        )
    invite = session.scalar(
        select(RegistrationInvite).where(RegistrationInvite.token_hash == _sha256(token))
    )
    if invite is None:
        raise InviteInvalid("this registration link is not valid")
    if invite.used_ms is not None:
        raise InviteInvalid("this registration link was already used")
    if invite.expires_ms < now_ms:
        raise InviteInvalid("this registration link has expired")
    return invite


def fetch_platform_configuration(url: str, runtime: LtiRuntime) -> dynreg.PlatformConfiguration:
    answer = runtime.http.request(
        "GET", url, what="OpenID configuration", headers={"Accept": "application/json"}
    )
    if answer.status != 200:
        raise PlatformServiceError(
            f"the platform's OpenID configuration answered HTTP {answer.status}", answer.status
        )
    platform = dynreg.check_configuration(url, answer.json())
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        runtime.http.check(getattr(platform, name), name)
    return platform


def register_with_platform(
    platform: dynreg.PlatformConfiguration,
    registration_token: str | None,
    base_url: str,
    runtime: LtiRuntime,
) -> tuple[str, str | None]:
    """POST the tool's configuration; the client_id and deployment_id the platform assigned."""
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = "Bearer " + registration_token
    answer = runtime.http.request(
        "POST",
        platform.registration_endpoint,
        what="registration endpoint",
        headers=headers,
        json_body=dynreg.registration_request(base_url, platform, runtime.config.tool_name),
    )
    if not answer.ok:
        raise DynamicRegistrationFailed(
            f"the platform refused the registration (HTTP {answer.status})"
        )
    return dynreg.parse_registration_response(answer.json())


def complete_dynamic_registration(
    session: Session,
    invite_pk: int,
    platform: dynreg.PlatformConfiguration,
    client_id: str,
    deployment_id: str | None,
    now_ms: int,
) -> Registration:
    """Store the registration in the invite's store and use the invite up, atomically."""
    invite = session.get(RegistrationInvite, invite_pk)
    if invite is None:
        raise InviteInvalid("this registration link is not valid")
    result = session.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invite_pk, RegistrationInvite.used_ms.is_(None))
        .values(used_ms=now_ms)
    )
    if result.rowcount != 1:
        raise InviteInvalid("this registration link was already used")
    # The LMS's administrator follows the link an administrator of ours made: no one signed in.
    lms = audit.Actor(
        "lms", f"invite {invite.id}", f"LMS dynamic registration (invite #{invite.id})"
    )
    with audit.acting_as(lms):
        registration = create_registration(
            session,
            invite.store_id,
            RegistrationData(
                issuer=platform.issuer,
                client_id=client_id,
                auth_login_url=platform.authorization_endpoint,
                auth_token_url=platform.token_endpoint,
                key_set_url=platform.jwks_uri,
                auth_audience=platform.authorization_server,
                deployment_ids=[deployment_id] if deployment_id else [],
                name=platform.product_family_code or platform.issuer,
            ),
            source="dynamic",
        )
    invite.registration_id = registration.id
    session.flush()
    return registration
