"""OIDC third-party-initiated login (LTI Core 1.3 §4.1; Security Framework 1.0 §5.1.1).

Pure: request parameters in, the authentication request URL out. State and nonce are random
values generated here; binding the state to the browser is the view's and service's job.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lti.errors import ForeignTargetLink, MissingLoginParameter
from lti.launch import origin

REQUIRED = ("iss", "login_hint", "target_link_uri")
STATE_COOKIE_PREFIX = "lti-state-"


@dataclass(frozen=True)
class LoginRequest:
    """The platform's login initiation parameters."""

    iss: str
    login_hint: str
    target_link_uri: str
    lti_message_hint: str | None = None
    client_id: str | None = None
    lti_deployment_id: str | None = None
    lti_storage_target: str | None = None


def parse_login(params: Mapping[str, str]) -> LoginRequest:
    """The login parameters (GET query or POST form); MissingLoginParameter for required ones."""
    values: dict[str, str | None] = {}
    for name in (*REQUIRED, "lti_message_hint", "client_id", "lti_deployment_id"):
        values[name] = params.get(name) or None
    for name in REQUIRED:
        if not values[name]:
            raise MissingLoginParameter(name)
    storage = params.get("lti_storage_target") or None
    if storage is not None and (len(storage) > 100 or not storage.replace("_", "a").isalnum()):
        storage = None  # a frame name; anything else is ignored and the cookie alone is used
    return LoginRequest(
        iss=values["iss"] or "",
        login_hint=values["login_hint"] or "",
        target_link_uri=values["target_link_uri"] or "",
        lti_message_hint=values["lti_message_hint"],
        client_id=values["client_id"],
        lti_deployment_id=values["lti_deployment_id"],
        lti_storage_target=storage,
    )


def check_target_link_uri(target_link_uri: str, own_origins: tuple[str, ...]) -> None:
    """The target must be a URL of this tool: the login must not become an open redirect."""
    try:
        target = origin(target_link_uri)
    except ValueError:
        target = ""
    if target not in own_origins:
        raise ForeignTargetLink(
            f"target_link_uri {target_link_uri!r} is not a URL of this tool; check the tool "
            "URL in the platform's registration"
        )


def new_secret() -> str:
    """A fresh state or nonce: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def state_cookie_name(state: str) -> str:
    """One cookie per login, so two launches in two tabs do not overwrite each other's state."""
    return STATE_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def authentication_url(
    auth_login_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    login_hint: str,
    lti_message_hint: str | None,
    state: str,
    nonce: str,
) -> str:
    """The platform's OIDC authentication request, keeping any query the endpoint already has."""
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if lti_message_hint is not None:
        params["lti_message_hint"] = lti_message_hint
    parts = urlsplit(auth_login_url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k not in params] + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
