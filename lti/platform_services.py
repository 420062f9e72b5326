"""Calling a platform's services (AGS, NRPS) as this tool: access tokens and the call itself.

``access_token`` gets a bearer token by OAuth 2 client credentials with a JWT assertion signed
by the tool key, cached per (registration, scope set); ``call_service`` makes one call with it
and renews the token once on a 401. ``lti.grades`` and ``lti.rosters`` are built on these.

Functions that call a platform take the ``runtime`` (``lti.runtime()`` in a request, the
default). They use timeouts, but on SQLite a write transaction held across them blocks other
writers for that long, so call them outside hot paths or split fetch and apply
(``rosters.fetch_roster`` + ``rosters.apply_roster``) as the views do.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lrs.errors import NotFound
from lti import explain
from lti.errors import PlatformServiceError
from lti.keys import sign_with_tool_key
from lti.models import Registration
from lti.runtime import LtiRuntime
from lti.runtime import runtime as current_runtime

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_PAGES = 1000


def resolve_runtime(runtime: LtiRuntime | None) -> LtiRuntime:
    """The runtime given, else the current app's."""
    return runtime if runtime is not None else current_runtime()


def access_token(
    session: Session, registration: Registration, scopes: list[str], runtime: LtiRuntime
) -> str:
    """A bearer token for these scopes (client credentials with a signed JWT assertion).

    Cached per (registration, scope set) until shortly before ``expires_in``.
    """
    scope_set = frozenset(scopes)
    cached = runtime.tokens.get(registration.id, scope_set)
    if cached:
        return cached
    now_ms = runtime.now()
    now = now_ms // 1000
    assertion = sign_with_tool_key(
        session,
        {
            "iss": registration.client_id,
            "sub": registration.client_id,
            "aud": registration.auth_audience or registration.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        },
        now_ms,
        runtime.key_box(),
    )
    answer = runtime.http.request(
        "POST",
        registration.auth_token_url,
        what="token endpoint",
        headers={"Accept": "application/json"},
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": " ".join(sorted(scope_set)),
        },
    )
    if not answer.ok:
        try:
            error = explain.oauth_error(answer.json())
        except PlatformServiceError:
            error = None
        raise PlatformServiceError(
            explain.token_refused(answer.status, error, scopes, registration.client_id),
            answer.status,
        )
    body = answer.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise PlatformServiceError("the LMS's token endpoint answered without an access_token", 200)
    expires_in = body.get("expires_in", 3600)
    expires_in = expires_in if isinstance(expires_in, int | float) else 3600
    runtime.tokens.put(registration.id, scope_set, token, float(expires_in))
    return token


def call_service(
    session: Session,
    registration: Registration,
    scopes: list[str],
    method: str,
    url: str,
    *,
    what: str,
    accept: str,
    runtime: LtiRuntime,
    json_body: Any = None,
    content_type: str | None = None,
):
    """A service call with a bearer token; on 401 the token is renewed once."""
    for attempt in (1, 2):
        token = access_token(session, registration, scopes, runtime)
        answer = runtime.http.request(
            method,
            url,
            what=what,
            headers={"Authorization": "Bearer " + token, "Accept": accept},
            json_body=json_body,
            content_type=content_type,
        )
        if answer.status == 401 and attempt == 1:
            runtime.tokens.drop(registration.id, frozenset(scopes))
            continue
        if not answer.ok:
            raise PlatformServiceError(
                explain.service_answer(what, answer.status, scopes), answer.status
            )
        return answer
    raise AssertionError("unreachable")


def registration_of(session: Session, store_id: int, registration_id: int) -> Registration:
    """The registration a link or course of this store belongs to; NotFound once deleted."""
    registration = session.get(Registration, registration_id)
    if registration is None or registration.store_id != store_id:
        raise NotFound("the registration of this resource link no longer exists")
    return registration
