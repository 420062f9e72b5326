"""A launch from login to the pages after it: state, nonce, the launch record, the launch token.

``/lti/login`` issues state and nonce (``begin_login``); ``/lti/launch`` checks that the posted
state belongs to this browser (``bind_state``), uses it up (``consume_state``), has the pure
rules of ``lti.launch`` validate the id_token, then stores the launch (``record_launch``): the
course, the resource link, the person of the LMS user and the ``launched`` statement. The pages
after a launch carry a signed launch token (``issue_launch_token``, ``open_launch_token``)
instead of a cookie. The pure rules are in ``lti.oidc``, ``lti.launch`` and ``lti.claims``.

Callers own the session and the transaction; nothing here commits.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lrs import audit
from lrs.api import source_principal, write_statements
from lrs.errors import Conflict
from lrs.people import services as people
from lrs.sealing import SecretBox
from lti import claims as c
from lti import jose
from lti import statements as st
from lti.errors import (
    BadSignature,
    LaunchTokenInvalid,
    MalformedToken,
    NonceReplayed,
    StateExpired,
    StateMismatch,
    StateNotBound,
    StateReused,
    UnknownDeployment,
    UnknownRegistration,
    UnknownState,
)
from lti.grants import note_launch
from lti.keys import published_keys, sign_with_tool_key
from lti.launch import origin
from lti.models import (
    Context,
    Deployment,
    Launch,
    LoginState,
    Registration,
    ResourceLink,
    UsedNonce,
    get_or_create,
)
from lti.oidc import LoginRequest, new_secret
from lti.registrations import deployment_ids, platform_origins

log = logging.getLogger("learnloop.lti")

LAUNCH_TOKEN_TYPE = "learnloop-launch+jwt"  # noqa: S105  (a JWT typ, not a secret)
LAUNCH_TOKEN_AUDIENCE = "learnloop:lti:launch"  # noqa: S105  (an aud, not a secret)


# ==== login and state ============================================================================


def _is_token_text(value: str, limit: int = 64) -> bool:
    """Whether ``value`` could be a state, nonce or key we issued (URL-safe base64)."""
    plain = value.replace("-", "").replace("_", "")
    return 0 < len(value) <= limit and plain.isascii() and plain.isalnum()


def begin_login(
    session: Session, registration: Registration, login: LoginRequest, now_ms: int, ttl: int
) -> LoginState:
    """Issue state and nonce for a login; rejects a deployment the registration lacks."""
    known = deployment_ids(session, registration.id)
    if login.lti_deployment_id is not None and known and login.lti_deployment_id not in known:
        raise UnknownDeployment(
            f"deployment {login.lti_deployment_id!r} is not registered for this platform; an "
            "administrator adds it on Learnloop's connection check page of this LMS"
        )
    session.execute(delete(LoginState).where(LoginState.expires_ms < now_ms - 86_400_000))
    session.execute(delete(UsedNonce).where(UsedNonce.expires_ms < now_ms))
    row = LoginState(
        store_id=registration.store_id,
        registration_id=registration.id,
        state=new_secret(),
        nonce=new_secret(),
        storage_target=login.lti_storage_target,
        created_ms=now_ms,
        expires_ms=now_ms + ttl * 1000,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class BoundState:
    """A login state tied to this browser, with what its launch must match."""

    state_pk: int
    state: str
    nonce: str
    registration_id: int
    store_id: int
    issuer: str
    client_id: str
    key_set_url: str
    deployment_ids: frozenset[str]
    storage_target: str | None
    platform_origin: str
    frame_origins: list[str]
    #: Neither cookie nor storage value came, but the platform offered platform storage: the
    #: view serves the page that reads the state from it and posts the launch again.
    needs_storage_check: bool = False


def bind_state(
    session: Session,
    state: str,
    cookie_value: str | None,
    storage_value: str | None,
    now_ms: int,
) -> BoundState:
    """Check the posted state: issued by us, unused, unexpired, and bound to this browser.

    Bound means the state cookie set at login came back with the same value, or, when the
    platform offered platform storage and the cookie was blocked, the value our page read from
    platform storage (and posted as ``lti_storage_state``) equals it.
    """
    row = None
    if _is_token_text(state):
        row = session.scalar(select(LoginState).where(LoginState.state == state))
    if row is None:
        raise UnknownState("this launch's state was not issued by this tool")
    if row.used_ms is not None:
        raise StateReused("this launch was already used; start again from the course")
    if row.expires_ms < now_ms:
        raise StateExpired("the login took too long; start again from the course")
    needs_storage_check = False
    if cookie_value is not None:
        if not hmac.compare_digest(cookie_value.encode(), state.encode()):
            raise StateMismatch("the state cookie does not match the posted state")
    elif storage_value is not None:
        if row.storage_target is None:
            raise StateNotBound("platform storage was not offered for this login")
        if not hmac.compare_digest(storage_value.encode(), state.encode()):
            raise StateMismatch("the state kept in platform storage does not match")
    elif row.storage_target is not None:
        needs_storage_check = True
    else:
        raise StateNotBound(
            "the browser did not send the state cookie (third-party cookies are blocked in "
            "this frame); open the tool in a new window, or ask the LMS administrator to "
            "enable LTI platform storage"
        )
    registration = session.get(Registration, row.registration_id)
    if registration is None:
        raise UnknownRegistration("the registration of this login was deleted")
    return BoundState(
        state_pk=row.id,
        state=row.state,
        nonce=row.nonce,
        registration_id=registration.id,
        store_id=registration.store_id,
        issuer=registration.issuer,
        client_id=registration.client_id,
        key_set_url=registration.key_set_url,
        deployment_ids=frozenset(deployment_ids(session, registration.id)),
        storage_target=row.storage_target,
        platform_origin=origin(registration.auth_login_url),
        frame_origins=platform_origins(registration),
        needs_storage_check=needs_storage_check,
    )


def consume_state(session: Session, state_pk: int, now_ms: int) -> None:
    """Mark the state used, atomically: of two concurrent launches with it, one fails."""
    result = session.execute(
        update(LoginState)
        .where(LoginState.id == state_pk, LoginState.used_ms.is_(None))
        .values(used_ms=now_ms)
    )
    if result.rowcount != 1:
        raise StateReused("this launch was already used; start again from the course")


def nonce_used(session: Session, registration_id: int, nonce: str) -> bool:
    return (
        session.scalar(
            select(UsedNonce.id).where(
                UsedNonce.registration_id == registration_id, UsedNonce.nonce == nonce
            )
        )
        is not None
    )


# ==== recording a launch =========================================================================


def person_for_lms_user(
    session: Session,
    store_id: int,
    issuer: str,
    sub: str,
    name: str | None,
    email: str | None,
):
    """The person of an LMS user: their LMS account and email linked to one person.

    An existing person with this email (from another source) gains the LMS account; an email
    that already belongs to someone else is left alone (merging people is a deliberate act).
    """
    name = name[:300] if name else None
    account = st.lms_agent(issuer, sub)
    person = people.find_person(session, store_id, account)
    if person is None and email:
        person = people.find_person(session, store_id, st.email_agent(email))
        if person is not None:
            people.link_identity(session, store_id, person, account, source="lti")
    if person is None:
        person = people.ensure_person(session, store_id, account, name=name or "", source="lti")
    if email:
        try:
            people.link_identity(session, store_id, person, st.email_agent(email), source="lti")
        except Conflict:
            log.info("lti: email of LMS user %s belongs to another person; not linked", sub)
        else:
            if not person.email:
                person.email = email
    if name and not person.name:
        person.name = name
    session.flush()
    return person


def learn_first_deployment(session: Session, bound: BoundState, deployment_id: str) -> None:
    """Record the deployment of a registration's first launch (it had none: see check_deployment).

    Later deployments are refused until an administrator adds them on the connection check page,
    so one signed launch cannot open the registration to every deployment of the platform.
    """
    if deployment_id in deployment_ids(session, bound.registration_id):
        return  # two first launches at once: the other one recorded it
    session.add(
        Deployment(
            store_id=bound.store_id,
            registration_id=bound.registration_id,
            deployment_id=deployment_id,
        )
    )
    session.flush()
    lms = audit.Actor("lms", str(bound.registration_id), f"LMS launch from {bound.issuer}")
    with audit.acting_as(lms):
        audit.record(
            session,
            "lti.deployment.learned",
            store_id=bound.store_id,
            target=audit.Target("lti_registration", bound.registration_id, bound.issuer),
            details={"deployment_id": deployment_id},
        )


def record_launch(
    session: Session, bound: BoundState, msg: c.LaunchMessage, now_ms: int, leeway: int
) -> Launch:
    """Store an accepted launch in the caller's transaction.

    Records the nonce (single use), the course, the link and the person, and stores the
    ``launched`` statement through the LRS write path.

    Raises NonceReplayed if another launch used this nonce meanwhile.
    """
    try:
        with session.begin_nested():
            session.add(
                UsedNonce(
                    store_id=bound.store_id,
                    registration_id=bound.registration_id,
                    nonce=msg.nonce,
                    expires_ms=int(float(msg.claims["exp"]) * 1000) + (leeway + 86_400) * 1000,
                )
            )
    except IntegrityError:
        raise NonceReplayed(
            "this id_token's nonce was already used: the launch is a replay"
        ) from None
    store_id, issuer, deployment = bound.store_id, msg.issuer, msg.deployment_id
    if not bound.deployment_ids:
        learn_first_deployment(session, bound, deployment)
    context = None
    if msg.context_id:
        course = msg.context
        context, _ = get_or_create(
            session,
            Context,
            {
                "registration_id": bound.registration_id,
                "deployment_id": deployment,
                "context_id": msg.context_id,
            },
            {
                "store_id": store_id,
                "activity_iri": st.context_iri(issuer, deployment, msg.context_id),
            },
        )
        context.title = str(course.get("title") or "")[:500]
        context.label = str(course.get("label") or "")[:255]
        # The latest launch says what the LMS grants now: an administrator may have turned
        # the roster service off since, and then the instructor's page says so.
        memberships = msg.nrps.get("context_memberships_url")
        memberships = memberships if isinstance(memberships, str) and memberships else None
        if memberships != context.memberships_url:
            context.differences_url = None
        context.memberships_url = memberships
    link = None
    custom = msg.custom
    reviewing = msg.message_type == c.SUBMISSION_REVIEW_REQUEST
    if reviewing and msg.resource_link_id:  # the placement as it is: a review changes nothing
        link = session.scalar(
            select(ResourceLink).where(
                ResourceLink.registration_id == bound.registration_id,
                ResourceLink.deployment_id == deployment,
                ResourceLink.resource_link_id == msg.resource_link_id,
            )
        )
    if msg.message_type == c.RESOURCE_LINK_REQUEST and msg.resource_link_id:
        link, _ = get_or_create(
            session,
            ResourceLink,
            {
                "registration_id": bound.registration_id,
                "deployment_id": deployment,
                "resource_link_id": msg.resource_link_id,
            },
            {
                "store_id": store_id,
                "activity_iri": st.resource_link_iri(issuer, deployment, msg.resource_link_id),
                "updated_ms": now_ms,
            },
        )
        link.context_pk = context.id if context else None
        link.title = str(msg.resource_link.get("title") or "")[:500]
        link.placed_activity = custom.get(st.CUSTOM_ACTIVITY) or link.placed_activity
        link.objective_template = (
            custom.get(st.CUSTOM_OBJECTIVE_TEMPLATE, "")[:255] or link.objective_template
        )
        endpoint = msg.ags  # as the roster service: what the LMS grants now
        link.lineitems_url = endpoint.get("lineitems") or None
        link.lineitem_url = endpoint.get("lineitem") or None
        link.ags_scopes = " ".join(s for s in endpoint.get("scope", []) if isinstance(s, str))
        link.updated_ms = now_ms
    sub = msg.sub or ""
    person = person_for_lms_user(session, store_id, issuer, sub, msg.name, msg.email)
    statement = st.launch_statement(msg, link.placed_activity if link else None)
    write_statements(session, source_principal(store_id, "lti"), [statement])
    # After the statement (which takes the store's lock), so launches lock in one order.
    registration = session.get(Registration, bound.registration_id)
    if registration is not None:
        note_launch(registration, msg, now_ms)
    settings: dict[str, Any] = {}
    if msg.message_type == c.DEEP_LINKING_REQUEST:
        settings["deep_linking_settings"] = msg.deep_linking_settings
    if reviewing:
        settings["for_user"] = msg.for_user
    return_url = msg.launch_presentation.get("return_url")
    if isinstance(return_url, str):
        settings["return_url"] = return_url
    locale = msg.launch_presentation.get("locale")  # the user's LMS language: the pages' too
    if isinstance(locale, str) and 0 < len(locale) <= 35:
        settings["locale"] = locale
    launch = Launch(
        store_id=store_id,
        registration_id=bound.registration_id,
        context_pk=context.id if context else None,
        resource_link_pk=link.id if link else None,
        person_id=person.id,
        deployment_id=deployment,
        message_type=msg.message_type,
        sub=sub,
        roles=json.dumps(msg.roles),
        settings=json.dumps(settings),
        statement_id=statement["id"],
        created_ms=now_ms,
    )
    session.add(launch)
    session.flush()
    return launch


def launch_settings(launch: Launch) -> dict[str, Any]:
    return json.loads(launch.settings or "{}")


# ==== the launch token of the pages after a launch ===============================================


def issue_launch_token(
    session: Session, launch: Launch, now_ms: int, ttl: int, *, box: SecretBox
) -> str:
    """A short-lived signed token naming the launch; pages carry it instead of a cookie.

    Signed with the tool's current key, opened with ``box`` (``LtiRuntime.key_box()``).
    """
    now = now_ms // 1000
    claims = {
        "aud": LAUNCH_TOKEN_AUDIENCE,
        "sub": str(launch.id),
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return sign_with_tool_key(session, claims, now_ms, box, LAUNCH_TOKEN_TYPE)


def open_launch_token(session: Session, token: str | None, now_ms: int) -> Launch:
    """The launch a token names; LaunchTokenInvalid if missing, forged, expired or unknown."""
    if not token:
        raise LaunchTokenInvalid("this page needs a launch; open the tool from the course")
    try:
        claims = jose.verify_own(token, published_keys(session, now_ms), LAUNCH_TOKEN_TYPE)
    except (MalformedToken, BadSignature):
        raise LaunchTokenInvalid("this page's launch token is not valid") from None
    if claims.get("aud") != LAUNCH_TOKEN_AUDIENCE or not str(claims.get("sub", "")).isdigit():
        raise LaunchTokenInvalid("this page's launch token is not valid")
    if not isinstance(claims.get("exp"), int) or claims["exp"] * 1000 < now_ms:
        raise LaunchTokenInvalid("the session expired; launch the tool again from the course")
    launch = session.get(Launch, int(claims["sub"]))
    if launch is None:
        raise LaunchTokenInvalid("this page's launch no longer exists")
    return launch
